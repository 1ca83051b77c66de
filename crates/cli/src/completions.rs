//! `drivewatch-cli completions SHELL` and `drivewatch-cli __manpages DIR`: shell completion
//! scripts and man pages generated from the command definition itself, so they can never
//! disagree with the flags the binary really accepts. The `.deb` and `.rpm` ship both (`cargo
//! xtask bundle` runs these commands on the release binary); `completions` is also for whoever
//! installs DriveWatch another way.
//!
//! Both run before settings are read: they must never load the configuration, log, start the
//! runtime or touch the network, since a shell's start-up file and a package build call them.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory};
use clap_complete::Shell;

/// The man-page generator's name. It is looked for before clap parses the command line rather
/// than declared as a hidden subcommand, because clap_complete lists hidden subcommands too: the
/// completion scripts would offer it to every user, and only the package build needs it.
const MANPAGES: &str = "__manpages";

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    shell: Shell,
}

/// Prints the completion script of the command line `C` for the shell asked for.
pub fn print<C: CommandFactory>(args: &CompletionsArgs) -> ExitCode {
    let mut cmd = C::command();
    let name = cmd.get_name().to_owned();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, name, &mut script);
    finish(std::io::stdout().write_all(&script))
}

/// The folder of `drivewatch-cli __manpages DIR`, when that is the command line.
pub fn manpages_requested(mut args: impl Iterator<Item = OsString>) -> Option<PathBuf> {
    let _program = args.next();
    if args.next()? != MANPAGES {
        return None;
    }
    match (args.next(), args.next()) {
        (Some(dir), None) => Some(PathBuf::from(dir)),
        _ => None,
    }
}

/// Writes the man pages of `C` into `dir`: one for the command, one per visible subcommand.
pub fn write_manpages<C: CommandFactory>(dir: &std::path::Path) -> ExitCode {
    finish(clap_mangen::generate_to(C::command(), dir))
}

fn finish(result: std::io::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("drivewatch-cli: {e}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::manpages_requested;

    fn args(a: &[&str]) -> impl Iterator<Item = std::ffi::OsString> {
        a.iter()
            .map(std::ffi::OsString::from)
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn only_the_exact_generator_command_line_asks_for_man_pages() {
        assert_eq!(
            manpages_requested(args(&["drivewatch-cli", "__manpages", "out"])),
            Some("out".into())
        );
        for other in [
            &["drivewatch-cli"][..],
            &["drivewatch-cli", "__manpages"],
            &["drivewatch-cli", "__manpages", "a", "b"],
            &["drivewatch-cli", "watch", "__manpages"],
            &["drivewatch-cli", "--demo", "__manpages", "out"],
        ] {
            assert_eq!(manpages_requested(args(other)), None, "{other:?}");
        }
    }
}
