//! The toolmark command line: argument definitions only; the work is in `commands`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use toolmark::commands;

/// Find the traces of attacker lateral-movement tools in Windows disk images.
#[derive(Parser)]
#[command(name = "toolmark", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Describe images: container, segments, stored hashes, partitions, NTFS volumes.
    Info {
        /// Image files (raw, first piece of a split raw set, or .E01).
        #[arg(required = true)]
        images: Vec<PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List a directory of an NTFS volume (paths from the volume root).
    Ls {
        /// Image file.
        image: PathBuf,
        /// Directory inside the volume (case-insensitive; `/` or `\`).
        #[arg(default_value = "/")]
        path: String,
        /// Descend into subdirectories.
        #[arg(short, long)]
        recursive: bool,
        /// Volume number as `toolmark info` shows it (default: the first NTFS volume).
        #[arg(long)]
        volume: Option<usize>,
        /// Also list deleted files found in unused MFT records (marked `*`).
        #[arg(long)]
        deleted: bool,
    },
    /// Write a file's content (or one of its named streams) to standard output.
    Cat {
        /// Image file.
        image: PathBuf,
        /// File inside the volume; `path:stream` also selects a stream.
        path: String,
        /// Volume number as `toolmark info` shows it (default: the first NTFS volume).
        #[arg(long)]
        volume: Option<usize>,
        /// Named stream (alternate data stream) to read instead of the content.
        #[arg(long)]
        stream: Option<String>,
    },
    /// Recompute an image's MD5/SHA-1 and compare them with the hashes stored in it.
    Verify {
        /// Image file.
        image: PathBuf,
        /// No progress bar.
        #[arg(short, long)]
        quiet: bool,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(commands::EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match cli.command {
        Command::Info { images, json } => commands::info::run(&images, json),
        Command::Ls {
            image,
            path,
            recursive,
            volume,
            deleted,
        } => commands::ls::run(&image, &path, volume, recursive, deleted),
        Command::Cat {
            image,
            path,
            volume,
            stream,
        } => commands::cat::run(&image, &path, volume, stream.as_deref()),
        Command::Verify { image, quiet } => commands::verify::run(&image, quiet),
    };
    commands::exit(result)
}
