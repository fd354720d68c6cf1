//! Command-line and environment options of the desktop app.

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::{Context as _, bail};

pub const USAGE: &str = "\
Usage: warta-app [--demo] [--data DIR] [--hub URL]

  --demo        seed a demo office (one user per role) when the data is new
  --data DIR    keep the hub's data in DIR instead of the system's app-data directory
  --hub URL     use the office hub at URL (not saved) instead of the saved choice

Without a saved choice the first window asks: work alone on this laptop, or join an office hub.
--demo and --data imply working alone when nothing is saved.

Environment: WARTA_DATA_DIR=DIR is the same as --data DIR; WARTA_DEMO=1 is the same as --demo;
WARTA_HUB=URL is the same as --hub URL. Options on the command line win over the environment.";

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Options {
    pub demo: bool,
    pub data_dir: Option<PathBuf>,
    /// An office hub forced for this run.
    pub hub: Option<String>,
    pub help: bool,
}

impl Options {
    pub fn from_env() -> anyhow::Result<Self> {
        let mut options = Self::parse(
            std::env::args_os().skip(1),
            std::env::var_os("WARTA_DATA_DIR"),
            std::env::var_os("WARTA_DEMO"),
        )?;
        if options.hub.is_none() {
            options.hub = std::env::var("WARTA_HUB")
                .ok()
                .filter(|h| !h.trim().is_empty());
        }
        Ok(options)
    }

    fn parse(
        args: impl IntoIterator<Item = OsString>,
        env_data_dir: Option<OsString>,
        env_demo: Option<OsString>,
    ) -> anyhow::Result<Self> {
        let mut options = Options {
            demo: env_demo.is_some_and(|v| matches!(v.to_str(), Some("1" | "true" | "yes"))),
            data_dir: env_data_dir.filter(|d| !d.is_empty()).map(PathBuf::from),
            hub: None,
            help: false,
        };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let text = arg.to_string_lossy();
            match text.as_ref() {
                "--demo" => options.demo = true,
                "-h" | "--help" => options.help = true,
                "--data" => {
                    let dir = args.next().context("--data needs a directory")?;
                    options.data_dir = Some(PathBuf::from(dir));
                }
                "--hub" => {
                    let hub = args.next().context("--hub needs a URL")?;
                    options.hub = Some(hub.to_string_lossy().into_owned());
                }
                _ if text.starts_with("--hub=") => {
                    options.hub = Some(text["--hub=".len()..].to_string());
                }
                _ if text.starts_with("--data=") => {
                    options.data_dir = Some(PathBuf::from(&text["--data=".len()..]));
                }
                _ if text.starts_with('-') => bail!("unknown option {text}"),
                // Desktop launchers and test drivers may append things we do not use.
                _ => tracing::warn!("ignoring argument {text:?}"),
            }
        }
        if options
            .data_dir
            .as_ref()
            .is_some_and(|d| d.as_os_str().is_empty())
        {
            bail!("--data needs a directory");
        }
        if options.hub.as_ref().is_some_and(|h| h.trim().is_empty()) {
            bail!("--hub needs a URL");
        }
        Ok(options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(
        args: &[&str],
        env_data: Option<&str>,
        env_demo: Option<&str>,
    ) -> anyhow::Result<Options> {
        Options::parse(
            args.iter().map(OsString::from),
            env_data.map(OsString::from),
            env_demo.map(OsString::from),
        )
    }

    #[test]
    fn defaults_to_the_app_data_dir_without_demo() {
        assert_eq!(parse(&[], None, None).unwrap(), Options::default());
    }

    #[test]
    fn reads_demo_and_data_in_both_spellings() {
        let expected = Options {
            demo: true,
            data_dir: Some("/tmp/w".into()),
            hub: None,
            help: false,
        };
        assert_eq!(
            parse(&["--demo", "--data", "/tmp/w"], None, None).unwrap(),
            expected
        );
        assert_eq!(
            parse(&["--data=/tmp/w", "--demo"], None, None).unwrap(),
            expected
        );
    }

    #[test]
    fn environment_is_a_fallback_for_the_command_line() {
        let from_env = parse(&[], Some("/env"), Some("1")).unwrap();
        assert_eq!(from_env.data_dir, Some("/env".into()));
        assert!(from_env.demo);
        let overridden = parse(&["--data", "/cli"], Some("/env"), Some("0")).unwrap();
        assert_eq!(overridden.data_dir, Some("/cli".into()));
        assert!(!overridden.demo);
    }

    #[test]
    fn rejects_unknown_options_and_a_missing_directory() {
        assert!(parse(&["--bogus"], None, None).is_err());
        assert!(parse(&["--data"], None, None).is_err());
        assert!(parse(&["--data="], None, None).is_err());
        assert!(parse(&["--hub"], None, None).is_err());
        assert!(parse(&["--hub="], None, None).is_err());
    }

    #[test]
    fn reads_the_office_hub_in_both_spellings() {
        let a = parse(&["--hub", "https://warta.example"], None, None).unwrap();
        assert_eq!(a.hub.as_deref(), Some("https://warta.example"));
        let b = parse(&["--hub=http://10.0.0.5:8080"], None, None).unwrap();
        assert_eq!(b.hub.as_deref(), Some("http://10.0.0.5:8080"));
    }
}
