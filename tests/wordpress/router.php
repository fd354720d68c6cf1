<?php
// Router for PHP's built-in web server: existing files are served as they are (scripts run,
// images and style sheets are sent), every other path goes to WordPress's front controller, as
// Apache's rewrite rules would do. That is what makes `/wp-json/...` and pretty permalinks work.
$root = rtrim($_SERVER['DOCUMENT_ROOT'], '/');
$path = rawurldecode(parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH) ?? '/');
if ($path !== '/' && strpos($path, '..') === false) {
    $target = $root . $path;
    if (is_file($target)) {
        return false;
    }
    if (is_dir($target) && is_file(rtrim($target, '/') . '/index.php')) {
        return false;
    }
}
$_SERVER['SCRIPT_NAME'] = '/index.php';
$_SERVER['PHP_SELF'] = '/index.php';
$_SERVER['SCRIPT_FILENAME'] = $root . '/index.php';
chdir($root);
require $root . '/index.php';
