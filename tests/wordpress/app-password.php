<?php
// Application passwords of the harness's user, as an administrator manages them in
// Users → Profile. Usage: php app-password.php revoke|create WP_ROOT SITE_URL USER
// `revoke` deletes every one; `create` makes a new one and prints it.
if ($argc !== 5 || !in_array($argv[1], ['revoke', 'create'], true)) {
    fwrite(STDERR, "usage: php app-password.php revoke|create WP_ROOT SITE_URL USER\n");
    exit(2);
}
[, $mode, $root, $url, $login] = $argv;
$parts = parse_url($url);
$_SERVER['HTTP_HOST'] = $parts['host'] . (isset($parts['port']) ? ':' . $parts['port'] : '');
$_SERVER['REQUEST_URI'] = '/';
require $root . '/wp-load.php';
$user = get_user_by('login', $login);
if (!$user) {
    fwrite(STDERR, "no user $login\n");
    exit(1);
}
if ($mode === 'revoke') {
    $deleted = WP_Application_Passwords::delete_all_application_passwords($user->ID);
    if (is_wp_error($deleted)) {
        fwrite(STDERR, $deleted->get_error_message() . "\n");
        exit(1);
    }
    fwrite(STDERR, "revoked $deleted application password(s) of $login\n");
    exit(0);
}
$created = WP_Application_Passwords::create_new_application_password(
    $user->ID,
    ['name' => 'warta-tests-' . bin2hex(random_bytes(4))]
);
if (is_wp_error($created)) {
    fwrite(STDERR, $created->get_error_message() . "\n");
    exit(1);
}
echo $created[0] . "\n";
