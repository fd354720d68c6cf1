<?php
// Installs WordPress into the harness's private tree and creates the application password the
// tests publish with. Usage: php install.php WP_ROOT SITE_URL. Prints JSON on stdout.
if ($argc !== 3) {
    fwrite(STDERR, "usage: php install.php WP_ROOT SITE_URL\n");
    exit(2);
}
[, $root, $url] = $argv;
$parts = parse_url($url);
$_SERVER['HTTP_HOST'] = $parts['host'] . (isset($parts['port']) ? ':' . $parts['port'] : '');
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';
define('WP_INSTALLING', true);

// No e-mail about the new site (there is no mail server); WordPress only defines its own
// version of this pluggable function when none exists.
function wp_new_blog_notification($blog_title, $blog_url, $user_id, $password)
{
}

require $root . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';

$user = 'warta';
$admin_password = wp_generate_password(24, false);
$result = wp_install('Warta WordPress', $user, 'warta@example.invalid', false, '', wp_slash($admin_password));
if (is_wp_error($result) || empty($result['user_id'])) {
    fwrite(STDERR, "wp_install failed\n");
    exit(1);
}
$user_id = (int) $result['user_id'];
wp_update_user(['ID' => $user_id, 'display_name' => 'Tim Warta', 'first_name' => 'Tim', 'last_name' => 'Warta']);

// A news site's permalinks, and the office's time zone (WITA), so that `date` and `date_gmt`
// differ as they do on the real sites.
update_option('permalink_structure', '/%year%/%monthnum%/%postname%/');
update_option('timezone_string', 'Asia/Makassar');
update_option('uploads_use_yearmonth_folders', 1);
flush_rewrite_rules(false);

if (!class_exists('WP_Application_Passwords')) {
    fwrite(STDERR, "this WordPress has no application passwords (5.6 or newer is needed)\n");
    exit(1);
}
$created = WP_Application_Passwords::create_new_application_password($user_id, ['name' => 'warta-tests']);
if (is_wp_error($created)) {
    fwrite(STDERR, 'creating the application password failed: ' . $created->get_error_message() . "\n");
    exit(1);
}
[$app_password, $item] = $created;

echo json_encode([
    'url' => $url,
    'api_root' => $url . '/wp-json',
    'user' => $user,
    'user_id' => $user_id,
    'app_password' => $app_password,
    'admin_password' => $admin_password,
    'wordpress_version' => get_bloginfo('version'),
], JSON_UNESCAPED_SLASHES) . "\n";
