#!/usr/bin/env bash
# A real, private WordPress for tests: Debian's `wordpress` package on a private MariaDB
# (datadir and unix socket inside DIR, no TCP) and PHP's built-in web server on 127.0.0.1.
# Nothing outside DIR is written: the WordPress tree in DIR/wp copies the package's top-level
# PHP files (so its own wp-config.php is the one loaded) and links everything else.
#
#   harness.sh start DIR       start MariaDB, install WordPress, start the web server;
#                              writes DIR/wp.json {url, api_root, user, app_password, ...}
#   harness.sh stop-web DIR    stop the web server only (WordPress "down")
#   harness.sh start-web DIR   start it again on the same port
#   harness.sh revoke DIR      revoke every application password of the user
#   harness.sh new-password DIR  create another one, print it and put it in DIR/wp.json
#   harness.sh add-user DIR LOGIN ROLE  add another WordPress user with an application
#                              password, and print the password
#   harness.sh stop DIR        stop everything started for DIR (safe to repeat)
#
# If WARTA_WP_OWNER_PID is set at `start`, a watchdog stops everything once that process is
# gone, so a test process that is killed leaves nothing running.
# Exit status 3 means WordPress, MariaDB or PHP is not installed.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WP_SRC="${WARTA_WP_SRC:-/usr/share/wordpress}"
THEME=twentytwentythree
APT_HINT="apt-get install -y wordpress wordpress-theme-twentytwentythree mariadb-server php-cli php-mysql php-gd php-xml php-mbstring php-curl"

die() {
    echo "wordpress harness: $*" >&2
    exit 1
}

first_of() {
    local c
    for c in "$@"; do
        if command -v "$c" >/dev/null 2>&1; then
            command -v "$c"
            return 0
        fi
        for p in /usr/sbin /usr/bin /usr/local/sbin /usr/local/bin; do
            if [ -x "$p/$c" ]; then
                echo "$p/$c"
                return 0
            fi
        done
    done
    return 1
}

check_installed() {
    local missing=()
    MARIADBD="$(first_of mariadbd mysqld)" || missing+=("mariadbd (mariadb-server)")
    INSTALL_DB="$(first_of mariadb-install-db mysql_install_db)" || missing+=("mariadb-install-db (mariadb-server)")
    MARIADB="$(first_of mariadb mysql)" || missing+=("mariadb client (mariadb-client)")
    PHP="$(first_of php)" || missing+=("php (php-cli)")
    if [ -n "${PHP:-}" ] && ! "$PHP" -r 'exit(extension_loaded("mysqli") ? 0 : 1);'; then
        missing+=("PHP's mysqli (php-mysql)")
    fi
    [ -f "$WP_SRC/wp-settings.php" ] || missing+=("WordPress in $WP_SRC (wordpress)")
    [ -f "$WP_SRC/wp-content/themes/$THEME/style.css" ] || missing+=("theme $THEME (wordpress-theme-$THEME)")
    if [ ${#missing[@]} -gt 0 ]; then
        {
            echo "wordpress harness: not installed: ${missing[*]}."
            echo "Install with: $APT_HINT"
        } >&2
        exit 3
    fi
}

abs_dir() {
    [ -n "${1:-}" ] || die "give the harness directory"
    mkdir -p "$1"
    (cd "$1" && pwd)
}

json_field() { # FILE FIELD
    "$PHP" -r '$j = json_decode(file_get_contents($argv[1]), true); echo $j[$argv[2]];' "$1" "$2"
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Stops the process group led by the pid in FILE: TERM, then KILL after a grace period.
stop_group() { # PIDFILE GRACE_TENTHS
    local pidfile="$1" grace="${2:-50}" pid i
    [ -f "$pidfile" ] || return 0
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < grace; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
    fi
    rm -f "$pidfile"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
    "$PHP" -r '$s = stream_socket_server("tcp://127.0.0.1:0", $no, $err) or exit(1);
        $n = stream_socket_get_name($s, false); echo substr($n, strrpos($n, ":") + 1);'
}

start_db() {
    local dir="$1" me
    me="$(id -un)"
    mkdir -p "$dir/db" "$dir/run" "$dir/log"
    # Native AIO is off: every MariaDB on the machine draws on one kernel-wide
    # pool of AIO contexts (fs.aio-max-nr), and several harnesses start at once.
    # A failed install is tried once more from an empty folder before giving up.
    local attempt
    for attempt in 1 2; do
        rm -rf "$dir/db"
        mkdir -p "$dir/db"
        if "$INSTALL_DB" --no-defaults --datadir="$dir/db" --user="$me" \
            --auth-root-authentication-method=socket --auth-root-socket-user="$me" \
            --skip-test-db --skip-name-resolve --innodb-use-native-aio=0 \
            >"$dir/log/install-db.log" 2>&1; then
            break
        fi
        if [ "$attempt" = 2 ]; then
            die "mariadb-install-db failed twice; the end of $dir/log/install-db.log:
$(tail -n 25 "$dir/log/install-db.log")"
        fi
        sleep 1
    done
    # setsid: its own process group, which `stop` ends as a whole.
    setsid "$MARIADBD" --no-defaults --datadir="$dir/db" --socket="$dir/run/mysqld.sock" \
        --pid-file="$dir/run/mysqld.pid" --skip-networking --user="$me" \
        --log-error="$dir/log/mariadb.err" --skip-name-resolve --character-set-server=utf8mb4 \
        --innodb-buffer-pool-size=32M --innodb-log-file-size=16M --innodb-use-native-aio=0 \
        --innodb-flush-log-at-trx-commit=0 --skip-log-bin \
        </dev/null >"$dir/log/mariadb.out" 2>&1 &
    echo $! >"$dir/run/mariadbd.pid"
    local i
    # Up to 90 s: several harnesses may start at once on a loaded 2-core CI machine.
    for ((i = 0; i < 900; i++)); do
        if [ -S "$dir/run/mysqld.sock" ] &&
            "$MARIADB" --no-defaults --socket="$dir/run/mysqld.sock" -u "$me" -e "SELECT 1" >/dev/null 2>&1; then
            break
        fi
        alive "$dir/run/mariadbd.pid" || die "MariaDB did not start; the end of $dir/log/mariadb.err:
$(tail -n 25 "$dir/log/mariadb.err" 2>/dev/null)"
        sleep 0.1
    done
    [ -S "$dir/run/mysqld.sock" ] || die "MariaDB did not open its socket; the end of $dir/log/mariadb.err:
$(tail -n 25 "$dir/log/mariadb.err" 2>/dev/null)"
    DB_PASSWORD="$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    "$MARIADB" --no-defaults --socket="$dir/run/mysqld.sock" -u "$me" -e "
        CREATE DATABASE wordpress CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
        CREATE USER 'wordpress'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
        GRANT ALL PRIVILEGES ON wordpress.* TO 'wordpress'@'localhost';" ||
        die "creating the database failed"
}

make_tree() {
    local dir="$1" url="$2" f name
    mkdir -p "$dir/wp/wp-content/plugins" "$dir/wp/wp-content/uploads"
    for f in "$WP_SRC"/*; do
        name="$(basename "$f")"
        case "$name" in
        wp-config.php | wp-content) ;;
        # Copied, not linked: PHP resolves links in __FILE__, and wp-load.php looks for
        # wp-config.php beside itself.
        *.php) cp "$f" "$dir/wp/$name" ;;
        *) ln -s "$f" "$dir/wp/$name" ;;
        esac
    done
    ln -s "$WP_SRC/wp-content/themes" "$dir/wp/wp-content/themes"
    local salts
    salts="$("$PHP" -r 'foreach (["AUTH_KEY","SECURE_AUTH_KEY","LOGGED_IN_KEY","NONCE_KEY","AUTH_SALT","SECURE_AUTH_SALT","LOGGED_IN_SALT","NONCE_SALT"] as $k) {
        printf("define(%s, %s);\n", var_export($k, true), var_export(bin2hex(random_bytes(32)), true)); }')"
    cat >"$dir/wp/wp-config.php" <<EOF
<?php
// Written by tests/wordpress/harness.sh for this test run only.
define('DB_NAME', 'wordpress');
define('DB_USER', 'wordpress');
define('DB_PASSWORD', '$DB_PASSWORD');
define('DB_HOST', 'localhost:$dir/run/mysqld.sock');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
$salts
\$table_prefix = 'wp_';
define('WP_HOME', '$url');
define('WP_SITEURL', '$url');
// Application passwords over plain http are only offered on a 'local' site.
define('WP_ENVIRONMENT_TYPE', 'local');
define('WP_DEBUG', false);
define('WP_DEBUG_LOG', '$dir/log/wp-debug.log');
// No network here: no update checks, no calls out; cron would only race the tests.
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_AUTO_UPDATE_CORE', false);
define('DISABLE_WP_CRON', true);
define('FS_METHOD', 'direct');
if (!defined('ABSPATH')) {
    define('ABSPATH', __DIR__ . '/');
}
require_once ABSPATH . 'wp-settings.php';
EOF
    cp "$HERE/router.php" "$dir/router.php"
}

start_web() {
    local dir="$1" port
    port="$(cat "$dir/run/port")"
    alive "$dir/run/php.pid" && return 0
    if port_open "$port"; then
        die "port $port is taken by another process"
    fi
    PHP_CLI_SERVER_WORKERS=4 setsid "$PHP" -d upload_max_filesize=256M -d post_max_size=256M \
        -d memory_limit=256M -d max_execution_time=120 -d display_errors=stderr \
        -S "127.0.0.1:$port" -t "$dir/wp" "$dir/router.php" \
        </dev/null >>"$dir/log/php-server.log" 2>&1 &
    echo $! >"$dir/run/php.pid"
    local i
    for ((i = 0; i < 300; i++)); do
        port_open "$port" && return 0
        alive "$dir/run/php.pid" || die "the PHP web server did not start: see $dir/log/php-server.log"
        sleep 0.1
    done
    die "the PHP web server did not open port $port"
}

stop_web() {
    local dir="$1"
    stop_group "$dir/run/php.pid" 30
}

stop_all() { # DIR [from-watchdog]
    local dir="$1"
    if [ "${2:-}" != watchdog ]; then
        stop_group "$dir/run/watch.pid" 10
    fi
    stop_web "$dir"
    stop_group "$dir/run/mariadbd.pid" 150
    rm -f "$dir/run/watch.pid"
}

cmd="${1:-}"
case "$cmd" in
start)
    check_installed
    dir="$(abs_dir "${2:-}")"
    [ ! -e "$dir/wp.json" ] || die "$dir already has a WordPress (stop it first)"
    # Unix sockets have a short path limit.
    [ ${#dir} -lt 80 ] || die "the directory path is too long for MariaDB's socket: $dir"
    mkdir -p "$dir/run" "$dir/log"
    # Whatever fails from here on, nothing is left running.
    started=0
    trap '[ "$started" = 1 ] || stop_all "$dir"' EXIT
    if [ -n "${WARTA_WP_OWNER_PID:-}" ]; then
        setsid bash "${BASH_SOURCE[0]}" watch "$dir" "$WARTA_WP_OWNER_PID" </dev/null >/dev/null 2>&1 &
        echo $! >"$dir/run/watch.pid"
    fi
    start_db "$dir"
    port="$(free_port)"
    echo "$port" >"$dir/run/port"
    url="http://127.0.0.1:$port"
    make_tree "$dir" "$url"
    "$PHP" "$HERE/install.php" "$dir/wp" "$url" >"$dir/wp.json.tmp" 2>"$dir/log/install.log" ||
        die "installing WordPress failed: $(cat "$dir/log/install.log")"
    mv "$dir/wp.json.tmp" "$dir/wp.json"
    start_web "$dir"
    started=1
    echo "WordPress $(json_field "$dir/wp.json" wordpress_version) at $url (harness $dir)"
    ;;
stop-web)
    check_installed
    dir="$(abs_dir "${2:-}")"
    stop_web "$dir"
    ;;
start-web)
    check_installed
    dir="$(abs_dir "${2:-}")"
    [ -f "$dir/run/port" ] || die "$dir has no WordPress (start it first)"
    start_web "$dir"
    ;;
revoke)
    check_installed
    dir="$(abs_dir "${2:-}")"
    [ -f "$dir/wp.json" ] || die "$dir has no WordPress (start it first)"
    "$PHP" "$HERE/app-password.php" revoke "$dir/wp" "$(json_field "$dir/wp.json" url)" \
        "$(json_field "$dir/wp.json" user)"
    ;;
new-password)
    check_installed
    dir="$(abs_dir "${2:-}")"
    [ -f "$dir/wp.json" ] || die "$dir has no WordPress (start it first)"
    password="$("$PHP" "$HERE/app-password.php" create "$dir/wp" "$(json_field "$dir/wp.json" url)" \
        "$(json_field "$dir/wp.json" user)")"
    "$PHP" -r '$j = json_decode(file_get_contents($argv[1]), true); $j["app_password"] = $argv[2];
        file_put_contents($argv[1] . ".tmp", json_encode($j, JSON_UNESCAPED_SLASHES) . "\n");' \
        "$dir/wp.json" "$password"
    mv "$dir/wp.json.tmp" "$dir/wp.json"
    echo "$password"
    ;;
add-user)
    check_installed
    dir="$(abs_dir "${2:-}")"
    [ -f "$dir/wp.json" ] || die "$dir has no WordPress (start it first)"
    [ -n "${3:-}" ] && [ -n "${4:-}" ] || die "give the user's login and role"
    "$PHP" "$HERE/add-user.php" "$dir/wp" "$(json_field "$dir/wp.json" url)" "$3" "$4"
    ;;
stop)
    dir="${2:-}"
    [ -n "$dir" ] || die "give the harness directory"
    [ -d "$dir" ] || exit 0
    dir="$(cd "$dir" && pwd)"
    stop_all "$dir"
    ;;
watch) # internal: DIR OWNER_PID
    dir="$2"
    owner="$3"
    while kill -0 "$owner" 2>/dev/null && [ -d "$dir/run" ]; do
        sleep 1
    done
    [ -d "$dir/run" ] && stop_all "$dir" watchdog
    ;;
*)
    sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
