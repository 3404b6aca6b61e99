//! One child process of the Guardian.

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::cli::StoreArgs;

pub struct Child {
    proc: std::process::Child,
    pub pid: i64,
    pub started: Instant,
    /// Set once the Guardian asked the child to stop: until when it may take.
    pub stop_deadline: Option<Instant>,
    pub stop_reason: Option<&'static str>,
    killed: bool,
}

impl Child {
    /// Starts `esmail <type> --instance N` on the same store.
    pub fn spawn(
        type_name: &str,
        instance: i64,
        args: &StoreArgs,
        url: &str,
        extra: &[String],
    ) -> Result<Child, String> {
        let exe =
            std::env::current_exe().map_err(|e| format!("cannot find the esmail binary: {e}"))?;
        let mut cmd = Command::new(exe);
        cmd.arg(type_name)
            .arg("--instance")
            .arg(instance.to_string());
        if let Some(cfg) = &args.config {
            cmd.arg("--config").arg(cfg);
        }
        cmd.args(extra)
            .env("ESMAIL_STORE", url)
            .env(
                crate::process::runtime::GUARDIAN_PID_ENV,
                std::process::id().to_string(),
            )
            .stdin(Stdio::null());
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                // its own process group: a Ctrl-C on the Guardian's terminal reaches the
                // Guardian alone, which then stops the children in order
                libc::setpgid(0, 0);
                // and if the Guardian dies without stopping it, the child is told to stop
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let proc = cmd.spawn().map_err(|e| e.to_string())?;
        Ok(Child {
            pid: proc.id() as i64,
            proc,
            started: Instant::now(),
            stop_deadline: None,
            stop_reason: None,
            killed: false,
        })
    }

    pub fn try_wait(&mut self) -> std::io::Result<Option<ExitStatus>> {
        self.proc.try_wait()
    }

    /// Asks the child to stop (SIGTERM); it is killed if still there after `timeout`.
    pub fn request_stop(&mut self, timeout: Duration, reason: &'static str) {
        if self.stop_deadline.is_none() {
            self.stop_deadline = Some(Instant::now() + timeout);
            self.stop_reason = Some(reason);
            signal(self.pid, libc::SIGTERM);
        }
    }

    pub fn enforce_deadline(&mut self) {
        if let Some(d) = self.stop_deadline {
            if !self.killed && Instant::now() >= d {
                log::warn!("pid {} did not stop in time: killing it", self.pid);
                signal(self.pid, libc::SIGKILL);
                self.killed = true;
            }
        }
    }
}

fn signal(pid: i64, sig: i32) {
    if pid > 0 {
        // SAFETY: plain kill(2) on a pid we started.
        unsafe {
            libc::kill(pid as libc::pid_t, sig);
        }
    }
}

/// How a child ended, for the log and the store.
pub fn describe_exit(s: &ExitStatus) -> String {
    if let Some(code) = s.code() {
        return format!("exited with status {code}");
    }
    match s.signal() {
        Some(sig) => format!("killed by signal {sig} ({})", signal_name(sig)),
        None => "ended".into(),
    }
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGKILL => "SIGKILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGABRT => "SIGABRT",
        libc::SIGHUP => "SIGHUP",
        libc::SIGBUS => "SIGBUS",
        libc::SIGPIPE => "SIGPIPE",
        _ => "signal",
    }
}

/// Is a process with this pid alive?
pub fn alive(pid: i64) -> bool {
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks that the process exists.
    let r = unsafe { libc::kill(pid as libc::pid_t, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Is that pid an esmail process of the given type (its command line says so)?
pub fn is_esmail(pid: i64, type_name: &str) -> bool {
    let Ok(raw) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let args: Vec<String> = raw
        .split(|b| *b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let exe_ok = args
        .first()
        .map(|a| a.rsplit('/').next().unwrap_or(a).starts_with("esmail"))
        .unwrap_or(false);
    exe_ok && args.iter().any(|a| a == type_name)
}

/// Stops a process that is not our child: SIGTERM, then SIGKILL after `grace`.
pub fn terminate(pid: i64, grace: Duration) {
    signal(pid, libc::SIGTERM);
    let until = Instant::now() + grace;
    while Instant::now() < until {
        if !alive(pid) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    signal(pid, libc::SIGKILL);
}
