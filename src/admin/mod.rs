//! Administration: the IOFCMGR language (parse, then run each statement as one transaction
//! against the store), and `esmail init` / `esmail upgrade`.

mod error;
pub mod init;
mod output;
mod probe;
mod rules;
mod run;
pub mod script;
mod session;
pub mod status;
mod verify;

pub use error::AdminError;
pub use output::format_entry;
pub use run::{run_interactive, run_script, RunSummary};
pub use session::{Output, Session};
