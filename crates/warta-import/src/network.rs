//! Whether this computer's connection is metered (a phone hotspot, a mobile modem), to decide
//! if photo originals travel when the office says "only on an unmetered connection".

use std::process::{Command, Stdio};
use std::time::Duration;

/// Asks NetworkManager whether the connection is metered.
///
/// `Some(true)`: metered (NetworkManager says `yes`/`guess-yes`, or D-Bus `Metered` is 1 or 3);
/// `Some(false)`: not metered (`no`/`guess-no`, D-Bus 2 or 4); `None`: unknown — no
/// NetworkManager (another OS, a minimal Linux), no default device, or it does not know.
/// Callers treat `None` as metered: an unknown connection never gets originals, which only
/// costs the archive copy, never a reporter's data plan.
///
/// Tried in order: `busctl get-property org.freedesktop.NetworkManager
/// /org/freedesktop/NetworkManager org.freedesktop.NetworkManager Metered` (the global state,
/// an `NMMetered` value: 0 unknown, 1 yes, 2 no, 3 guess-yes, 4 guess-no), then
/// `nmcli -t -f GENERAL.METERED dev show` (per device; metered if any device is). Each program
/// gets two seconds.
pub fn connection_is_metered() -> Option<bool> {
    if let Some(out) = run(
        "busctl",
        &[
            "get-property",
            "org.freedesktop.NetworkManager",
            "/org/freedesktop/NetworkManager",
            "org.freedesktop.NetworkManager",
            "Metered",
        ],
    ) && let Some(m) = parse_busctl(&out)
    {
        return Some(m);
    }
    run("nmcli", &["-t", "-f", "GENERAL.METERED", "dev", "show"]).and_then(|out| parse_nmcli(&out))
}

/// `u 2` → not metered. 0 (unknown) → None.
fn parse_busctl(out: &str) -> Option<bool> {
    let value: u32 = out.trim().strip_prefix("u ")?.trim().parse().ok()?;
    match value {
        1 | 3 => Some(true),
        2 | 4 => Some(false),
        _ => None,
    }
}

/// Lines like `GENERAL.METERED:no (guessed)`; metered if any device is, unknown if none says.
fn parse_nmcli(out: &str) -> Option<bool> {
    let mut answer = None;
    for line in out.lines() {
        let Some(v) = line.trim().strip_prefix("GENERAL.METERED:") else {
            continue;
        };
        if v.starts_with("yes") {
            return Some(true);
        }
        if v.starts_with("no") {
            answer = Some(false);
        }
    }
    answer
}

/// Runs a program with a time limit; its standard output if it succeeded.
fn run(program: &str, args: &[&str]) -> Option<String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => break,
            Ok(Some(_)) | Err(_) => return None,
            Ok(None) if std::time::Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take()?, &mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busctl_values() {
        assert_eq!(parse_busctl("u 1\n"), Some(true));
        assert_eq!(parse_busctl("u 3"), Some(true));
        assert_eq!(parse_busctl("u 2"), Some(false));
        assert_eq!(parse_busctl("u 4"), Some(false));
        assert_eq!(parse_busctl("u 0"), None);
        assert_eq!(parse_busctl("garbage"), None);
    }

    #[test]
    fn nmcli_lines() {
        assert_eq!(
            parse_nmcli("GENERAL.METERED:no (guessed)\nGENERAL.METERED:unknown\n"),
            Some(false)
        );
        assert_eq!(
            parse_nmcli("GENERAL.METERED:no\nGENERAL.METERED:yes (guessed)\n"),
            Some(true)
        );
        assert_eq!(parse_nmcli("GENERAL.METERED:unknown\n"), None);
        assert_eq!(parse_nmcli(""), None);
    }
}
