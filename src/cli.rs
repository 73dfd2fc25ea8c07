//! The command line: `serve`, `shell`, `migrate`, `catalog import FILE`, `catalog show`.
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::Settings;
use crate::store::Store;

#[derive(Debug, Parser)]
#[command(
    name = "uchbot",
    version,
    about = "Telegram and email assistant of a continuing-education provider"
)]
pub struct Cli {
    /// Configuration file (TOML); every key can be overridden by UCHBOT_<SECTION>__<KEY>.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the bot: Telegram updates, HTTP endpoints, outbox and background jobs.
    Serve,
    /// Talk to the bot as a learner in this terminal, no Telegram token needed.
    Shell {
        /// SQLite file of the shell's own data.
        #[arg(long, default_value = "uchbot-shell.db")]
        db: PathBuf,
    },
    /// Create or update the database schema.
    Migrate,
    /// Load or inspect the course catalog.
    Catalog {
        #[command(subcommand)]
        command: CatalogCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Import a catalog file (idempotent, all or nothing).
    Import { file: PathBuf },
    /// Print the catalog as the bot sees it.
    Show,
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load(cli.config.as_deref())?;
    match cli.command {
        Command::Serve => crate::serve::run(settings).await,
        Command::Shell { db } => crate::shell::run(settings, db).await,
        Command::Migrate => {
            let store = open_store(&settings).await?;
            let t = crate::texts::Texts::russian();
            println!("{}", crate::tr!(t, "cli-migrated"));
            store.close().await;
            Ok(())
        }
        Command::Catalog { command } => {
            let store = open_store(&settings).await?;
            let result = match command {
                CatalogCommand::Import { file } => {
                    import_catalog(&store, &file, settings.school.tz()).await
                }
                CatalogCommand::Show => show_catalog(&store, &settings).await,
            };
            store.close().await;
            result
        }
    }
}

pub async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    let store = Store::connect_with(
        &settings.database.url,
        settings.database.max_connections,
        std::time::Duration::from_millis(settings.database.busy_timeout_ms),
    )
    .await?;
    store.migrate().await?;
    Ok(store)
}

pub async fn import_catalog(
    store: &Store,
    file: &std::path::Path,
    tz: chrono_tz::Tz,
) -> anyhow::Result<()> {
    let catalog = crate::catalog::load_catalog(file)?;
    let mut tx = store.begin().await?;
    let report = crate::store::catalog::import(&mut tx, &catalog).await?;
    // The lessons' reminders and materials notices change with the catalog, atomically.
    let mut plan = crate::scheduler::plan_catalog(&mut tx, &catalog, chrono::Utc::now()).await?;
    // The final test's window (opens, warnings, the group's end) changes with it too.
    let tests =
        crate::scheduler::attestation::plan(&mut tx, &catalog, tz, chrono::Utc::now()).await?;
    plan.planned += tests.planned;
    plan.cancelled += tests.cancelled;
    tx.commit().await?;
    println!("{}", describe_import(&report, &file.display().to_string()));
    let t = crate::texts::Texts::russian();
    println!(
        "{}",
        crate::tr!(
            t,
            "cli-jobs-planned",
            scheduled = plan.planned,
            cancelled = plan.cancelled
        )
    );
    Ok(())
}

fn describe_import(report: &crate::store::catalog::ImportReport, file: &str) -> String {
    let t = crate::texts::Texts::russian();
    if report.unchanged {
        return crate::tr!(t, "cli-import-unchanged", file = file);
    }
    let part = |m: &std::collections::BTreeMap<&'static str, usize>| {
        if m.is_empty() {
            "—".to_owned()
        } else {
            m.iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    crate::tr!(
        t,
        "cli-import-done",
        file = file,
        added = part(&report.added),
        updated = part(&report.updated),
        withdrawn = part(&report.withdrawn)
    )
}

async fn show_catalog(store: &Store, settings: &Settings) -> anyhow::Result<()> {
    let mut conn = store.pool().acquire().await?;
    let catalog = crate::store::catalog::load(&mut conn).await?;
    let t = crate::texts::Texts::russian();
    let tz = settings.school.tz();
    if catalog.courses.is_empty() {
        println!("{}", crate::tr!(t, "cli-catalog-empty"));
    }
    for course in &catalog.courses {
        println!(
            "{}  {} · {} · {}",
            course.id,
            course.title,
            crate::tr!(t, "hours", count = course.hours),
            course.price.display_rub()
        );
        for g in &course.groups {
            println!(
                "    {}  {} ({} — {})",
                g.id, g.title, g.starts_on, g.ends_on
            );
            for l in &g.lessons {
                println!(
                    "        {}  {}  {}",
                    l.id,
                    l.starts_at.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
                    l.topic
                );
            }
        }
        println!(
            "    {}",
            crate::tr!(
                t,
                "cli-catalog-questions",
                count = course.attestation.questions.len()
            )
        );
    }
    Ok(())
}
