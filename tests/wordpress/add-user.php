<?php
// Adds another WordPress user with an application password, as a site administrator would
// (for tests that change the site as someone other than Warta's account).
// Usage: php add-user.php WP_ROOT SITE_URL LOGIN ROLE. Prints the application password.
if ($argc !== 5) {
    fwrite(STDERR, "usage: php add-user.php WP_ROOT SITE_URL LOGIN ROLE\n");
    exit(2);
}
[, $root, $url, $login, $role] = $argv;
$parts = parse_url($url);
$_SERVER['HTTP_HOST'] = $parts['host'] . (isset($parts['port']) ? ':' . $parts['port'] : '');
$_SERVER['REQUEST_URI'] = '/';
require $root . '/wp-load.php';
$id = wp_insert_user([
    'user_login' => $login,
    'user_pass' => wp_generate_password(24, false),
    'user_email' => $login . '@example.invalid',
    'display_name' => $login,
    'role' => $role,
]);
if (is_wp_error($id)) {
    fwrite(STDERR, $id->get_error_message() . "\n");
    exit(1);
}
$created = WP_Application_Passwords::create_new_application_password($id, ['name' => 'other-' . bin2hex(random_bytes(4))]);
if (is_wp_error($created)) {
    fwrite(STDERR, $created->get_error_message() . "\n");
    exit(1);
}
echo $created[0] . "\n";
