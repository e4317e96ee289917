//! `assent user`: accounts of people for the console (create, list, disable, enable, reset).
//! Each change is an audit entry whose actor is `cli`.

use std::io::Read;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};

use assent_app::accounts::users::{self, NewUser};
use assent_model::clock::SystemClock;
use assent_store::{OpenOptions, Store};

use crate::common::app_error;
use crate::db::{DbArgs, location, open_existing};

/// Where the printed setup links point.
#[derive(Args, Clone)]
pub(crate) struct LinkArgs {
    /// Public base URL of the server (setup links point there).
    #[arg(
        long,
        env = "ASSENT_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    public_url: String,
}

#[derive(Subcommand)]
pub(crate) enum UserCmd {
    /// Create an account; prints a one-time setup link (24 hours) unless --password-stdin.
    Create {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        email: String,
        /// admin (everything), dpo (requests, retention, marketing) or auditor (read-only).
        #[arg(long)]
        role: String,
        /// Read the password from standard input (without its trailing newline).
        #[arg(long)]
        password_stdin: bool,
        /// Console language: en, fr or de.
        #[arg(long, default_value = "en")]
        lang: String,
        /// Time zone of the dates shown (IANA name).
        #[arg(long, default_value = "UTC")]
        tz: String,
        #[command(flatten)]
        link: LinkArgs,
    },
    /// List accounts (never their passwords).
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Disable an account (by email or id) and end its sessions.
    Disable {
        #[command(flatten)]
        db: DbArgs,
        user: String,
    },
    /// Enable a disabled account again.
    Enable {
        #[command(flatten)]
        db: DbArgs,
        user: String,
    },
    /// Clear an account's password and second factor and print a new setup link.
    Reset {
        #[command(flatten)]
        db: DbArgs,
        user: String,
        #[command(flatten)]
        link: LinkArgs,
    },
}

/// The password on standard input, without one trailing newline (`\n` or `\r\n`).
fn read_password() -> Result<String> {
    let mut s = String::new();
    std::io::stdin()
        .take(4096)
        .read_to_string(&mut s)
        .context("cannot read the password from standard input")?;
    let s = s
        .strip_suffix('\n')
        .map(|s| s.strip_suffix('\r').unwrap_or(s))
        .unwrap_or(&s);
    if s.contains('\n') {
        bail!("standard input: line 2: the password must be one line");
    }
    Ok(s.to_owned())
}

fn base(link: &LinkArgs) -> String {
    link.public_url.trim_end_matches('/').to_owned()
}

pub(crate) async fn cmd_user(cmd: UserCmd) -> Result<ExitCode> {
    let clock = SystemClock;
    match cmd {
        UserCmd::Create {
            db,
            email,
            role,
            password_stdin,
            lang,
            tz,
            link,
        } => {
            let password = password_stdin.then(read_password).transpose()?;
            if db.database.is_none() {
                assent_store::create_private_dir(&db.data)
                    .with_context(|| format!("cannot create {}", db.data.display()))?;
            }
            let store = Store::open(&location(&db)?, OpenOptions::create()).await?;
            let n = NewUser {
                email,
                role,
                password,
                lang: Some(lang),
                tz: Some(tz),
            };
            let made = users::create(&store, &clock, "cli", &n, &base(&link)).await;
            store.close().await;
            let (user, setup) = made.map_err(app_error)?;
            eprintln!("account {} ({}) created", user.id, user.role);
            if let Some(url) = setup {
                println!("{url}");
                eprintln!(
                    "send this one-time link to the person: it sets their password and expires in 24 hours"
                );
            }
        }
        UserCmd::List { db } => {
            let store = open_existing(&db).await?;
            let list = users::list(&store).await;
            store.close().await;
            for u in list.map_err(app_error)? {
                let state = if u.disabled {
                    "disabled"
                } else if !u.has_password {
                    "setup pending"
                } else {
                    "active"
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    u.id,
                    u.email,
                    u.role,
                    state,
                    if u.totp { "totp" } else { "-" },
                    assent_model::clock::rfc3339(u.created_at_ms)
                );
            }
        }
        UserCmd::Disable { db, user } => {
            let store = open_existing(&db).await?;
            let done = users::disable(&store, &clock, "cli", &user).await;
            store.close().await;
            let u = done.map_err(app_error)?;
            println!("account {} disabled", u.email);
        }
        UserCmd::Enable { db, user } => {
            let store = open_existing(&db).await?;
            let done = users::enable(&store, &clock, "cli", &user).await;
            store.close().await;
            let u = done.map_err(app_error)?;
            println!("account {} enabled", u.email);
        }
        UserCmd::Reset { db, user, link } => {
            let store = open_existing(&db).await?;
            let done = users::reset(&store, &clock, "cli", &user, &base(&link)).await;
            store.close().await;
            println!("{}", done.map_err(app_error)?);
            eprintln!(
                "the password and second factor are cleared; this link sets a new password within 24 hours"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
