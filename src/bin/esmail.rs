//! `esmail`: every server process is a subcommand of this binary.

use clap::{Parser, Subcommand};

use esmail::admin::init::{self, InitReport};
use esmail::admin::status;
use esmail::cli::{fail, init_logging, StoreArgs};
use esmail::guardian;

#[derive(Debug, Parser)]
#[command(
    name = "esmail",
    version,
    about = "An e-mail and directory server whose configuration, directory and messages live in one database schema"
)]
struct Cli {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the schema and the first node, domain, ORAPOST account and TLS certificate
    /// (nothing is changed on a store that already has them)
    Init {
        /// The first domain (default: this machine's host name)
        #[arg(long, value_name = "NAME")]
        domain: Option<String>,
    },
    /// Apply the schema steps this esmail has and the store lacks; register new process types
    Upgrade,
    /// Initialise the store when it is new, then run the node: the Guardian in the
    /// foreground, which starts and supervises every other process (Ctrl-C stops them all)
    Start {
        /// The first domain, for a new store (default: this machine's host name)
        #[arg(long, value_name = "NAME")]
        domain: Option<String>,
    },
    /// The Guardian alone, on an initialised store (what `start` runs after `init`)
    Guardian,
    /// The Collector: deletes what is no longer needed (started by the Guardian)
    Collector {
        #[arg(long, default_value_t = 1)]
        instance: i64,
    },
    /// Statistics: samples queue lengths, counts and space use (started by the Guardian)
    Statistics {
        #[arg(long, default_value_t = 1)]
        instance: i64,
    },
    /// The Monitor: tests message flow, space, configuration and references, and mails its
    /// reports to ORAPOST (started by the Guardian)
    Monitor {
        #[arg(long, default_value_t = 1)]
        instance: i64,
    },
    /// The SMTP/MIME gateway: mail in by SMTP, and out through a smart host (started by the
    /// Guardian)
    Smtpgw {
        #[arg(long, default_value_t = 1)]
        instance: i64,
    },
    /// The Postman: moves messages through the queues and delivers them (started by the
    /// Guardian)
    Postman {
        #[arg(long, default_value_t = 1)]
        instance: i64,
    },
    /// IOLISTENER: accepts POP3 and IMAP4 clients and hands each to the least busy protocol
    /// server instance (started by the Guardian)
    Iolistener {
        #[arg(long, default_value_t = 1)]
        instance: i64,
    },
    /// POP3SRV: a POP3 protocol server instance (started by the Guardian)
    Pop3srv {
        #[arg(long, default_value_t = 1)]
        instance: i64,
    },
    /// IMAP4SRV: an IMAP4rev1 protocol server instance (started by the Guardian)
    Imap4srv {
        #[arg(long, default_value_t = 1)]
        instance: i64,
    },
    /// Show what the store holds: node, domains, processes, directory
    Status,
    /// Write a consistent copy of the embedded store while the node runs and keeps taking mail
    /// (an Oracle store is backed up with RMAN: docs/backup-and-recovery.md)
    Backup {
        /// The copy to write: a new file (an existing one is never overwritten)
        #[arg(long, value_name = "PATH")]
        to: std::path::PathBuf,
    },
    /// Put a backup in place of the embedded store, with the node stopped; the store it
    /// replaces is kept beside it as STORE.before-restore-TIME
    Restore {
        /// The backup to restore (written by esmail backup)
        #[arg(long, value_name = "PATH")]
        from: std::path::PathBuf,
    },
    /// IOLDAP: write the whole directory as an LDIF file for the first load of an LDAP
    /// directory (ldapadd -f FILE)
    Ioldap {
        /// The LDIF file to write
        #[arg(long, value_name = "FILE")]
        out: std::path::PathBuf,
        /// The DN under which the domains' containers go (ou=DOMAIN,BASE_DN)
        #[arg(long, value_name = "DN")]
        base_dn: String,
    },
    /// IOODSSYNC: push the directory and each of its changes to an LDAP server (started by
    /// the Guardian once its ldap_url and base_dn parameters are set)
    Ioodssync {
        #[arg(long, default_value_t = 1)]
        instance: i64,
    },
    /// ODSIOSYNC: create the persons added to an LDAP server and delete those deleted there
    /// (started by the Guardian once its ldap_url and base_dn parameters are set)
    Odsiosync {
        #[arg(long, default_value_t = 1)]
        instance: i64,
    },
}

fn print_init(r: &InitReport, url: &str) {
    if r.created {
        println!("esmail: initialised {url}");
        println!(
            "  schema version {} (steps applied: {})",
            r.schema_version,
            r.steps_applied.join(", ")
        );
        println!("  node {} (system and domain configuration node)", r.node);
        println!("  domain {}", r.domains.join(", "));
        println!("  account {}", r.orapost);
        if let Some(t) = &r.certificate_until {
            println!("  self-signed TLS certificate, valid until {t}");
        }
        if r.registered.is_empty() {
            println!(
                "  processes: none registered (this build provides no server process types yet)"
            );
        } else {
            println!("  processes registered: {}", r.registered.join(", "));
        }
    } else {
        let mut msg = format!(
            "esmail: {url} is already initialised (node {}, domains {}); nothing changed",
            r.node,
            r.domains.join(", ")
        );
        if !r.steps_applied.is_empty() {
            msg.push_str(&format!(
                "; schema steps applied: {}",
                r.steps_applied.join(", ")
            ));
        }
        println!("{msg}");
    }
}

fn main() {
    let cli = Cli::parse();
    // the server processes log to their own files (see process::logging); the
    // administration commands log to standard error
    if matches!(
        cli.command,
        Command::Init { .. }
            | Command::Upgrade
            | Command::Status
            | Command::Backup { .. }
            | Command::Restore { .. }
            | Command::Ioldap { .. }
    ) {
        init_logging();
    }
    let prog = "esmail";
    match cli.command {
        Command::Init { domain } => {
            let (store, cfg) = cli.store.open(true).unwrap_or_else(|e| fail(prog, &e));
            let r = init::init(&store, &cfg.defines, domain.as_deref())
                .unwrap_or_else(|e| fail(prog, &e));
            print_init(&r, &cfg.url.to_string());
        }
        Command::Start { domain } => {
            let (store, cfg) = cli.store.open(true).unwrap_or_else(|e| fail(prog, &e));
            let r = init::init(&store, &cfg.defines, domain.as_deref())
                .unwrap_or_else(|e| fail(prog, &e));
            if r.created {
                print_init(&r, &cfg.url.to_string());
            } else {
                println!(
                    "esmail: node {} of {} (domains {})",
                    r.node,
                    cfg.url,
                    r.domains.join(", ")
                );
                // a newer build may provide process types the store has not registered yet
                let (_, registered, _) =
                    init::upgrade(&store, &cfg.defines).unwrap_or_else(|e| fail(prog, &e));
                if !registered.is_empty() {
                    println!("esmail: registered {}", registered.join(", "));
                }
            }
            drop(store);
            println!(
                "esmail: starting the Guardian (pid {}); Ctrl-C stops the node",
                std::process::id()
            );
            guardian::run(&cli.store).unwrap_or_else(|e| fail(prog, &e));
        }
        Command::Guardian => {
            guardian::run(&cli.store).unwrap_or_else(|e| fail(prog, &e));
        }
        Command::Collector { instance } => {
            esmail::collector::run(&cli.store, instance).unwrap_or_else(|e| fail(prog, &e));
        }
        Command::Statistics { instance } => {
            esmail::statistics::run(&cli.store, instance).unwrap_or_else(|e| fail(prog, &e));
        }
        Command::Monitor { instance } => {
            esmail::monitor::run(&cli.store, instance).unwrap_or_else(|e| fail(prog, &e));
        }
        Command::Smtpgw { instance } => {
            esmail::gateway::smtp::run(&cli.store, instance).unwrap_or_else(|e| fail(prog, &e));
        }
        Command::Iolistener { instance } => {
            esmail::sps::listener::run(&cli.store, instance).unwrap_or_else(|e| fail(prog, &e));
        }
        Command::Pop3srv { instance } => {
            esmail::sps::instance::run(
                &cli.store,
                esmail::sps::Protocol::Pop3,
                instance,
                |ctx, client, handle| Box::pin(esmail::sps::pop3::serve(ctx, client, handle)),
            )
            .unwrap_or_else(|e| fail(prog, &e));
        }
        Command::Imap4srv { instance } => {
            esmail::sps::instance::run(
                &cli.store,
                esmail::sps::Protocol::Imap,
                instance,
                |ctx, client, handle| Box::pin(esmail::sps::imap::serve(ctx, client, handle)),
            )
            .unwrap_or_else(|e| fail(prog, &e));
        }
        Command::Postman { instance } => {
            esmail::postman::run(&cli.store, instance).unwrap_or_else(|e| fail(prog, &e));
        }
        Command::Upgrade => {
            let (store, cfg) = cli.store.open(false).unwrap_or_else(|e| fail(prog, &e));
            let (steps, registered, v) =
                init::upgrade(&store, &cfg.defines).unwrap_or_else(|e| fail(prog, &e));
            if steps.is_empty() && registered.is_empty() {
                println!(
                    "esmail: {} is up to date (schema version {v}); nothing changed",
                    cfg.url
                );
            } else {
                println!("esmail: upgraded {} to schema version {v}", cfg.url);
                if !steps.is_empty() {
                    println!("  steps applied: {}", steps.join(", "));
                }
                if !registered.is_empty() {
                    println!("  processes registered: {}", registered.join(", "));
                }
            }
        }
        Command::Backup { to } => {
            let text = esmail::backup::backup(&cli.store, &to).unwrap_or_else(|e| fail(prog, &e));
            println!("{text}");
        }
        Command::Restore { from } => {
            let text =
                esmail::backup::restore(&cli.store, &from).unwrap_or_else(|e| fail(prog, &e));
            println!("{text}");
        }
        Command::Ioldap { out, base_dn } => {
            let text = esmail::ldap::export::run(&cli.store, &base_dn, &out)
                .unwrap_or_else(|e| fail(prog, &e));
            println!("{text}");
        }
        Command::Ioodssync { instance } => {
            esmail::ldap::sync::run(&cli.store, instance).unwrap_or_else(|e| fail(prog, &e));
        }
        Command::Odsiosync { instance } => {
            esmail::ldap::pull::run(&cli.store, instance).unwrap_or_else(|e| fail(prog, &e));
        }
        Command::Status => {
            let (store, cfg) = cli.store.open(false).unwrap_or_else(|e| fail(prog, &e));
            let text =
                status::report(&store, &cfg.url.to_string()).unwrap_or_else(|e| fail(prog, &e));
            print!("{text}");
        }
    }
}
