//! A throwaway PostgreSQL cluster for the tests: Debian's `initdb` and `postgres` (the
//! `postgresql` package), a data directory and a unix socket of its own in a temporary
//! directory, no TCP port. It starts once per test binary, on the first [`database`] call;
//! every test gets a database of its own in it, so tests never see each other's rows.
//!
//! Teardown does not rely on anything running at exit (a test binary does not drop its
//! statics, and a panic or a kill skips destructors): the server runs under a small shell
//! that holds the read end of a pipe whose write end only this process has. When the process
//! ends, however it ends, the pipe closes, and the shell stops the server (a fast shutdown)
//! and removes the directory.
//!
//! `initdb` refuses to run as root, and CI runs as root. Then the cluster runs as the
//! `postgres` user, which Debian's package creates, through `runuser`; the temporary
//! directory is handed to that user. An ordinary user runs it as themselves.
//!
//! Nothing is skipped: without the server programs every test that asks for a database fails,
//! saying what to install.

use std::{
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
    process::{Child, ChildStdin, Command, Stdio},
    sync::{
        Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};

use tokio::sync::OnceCell;

/// What to do when the server programs are missing.
const INSTALL: &str = "install Debian's `postgresql` package (apt-get install postgresql), \
                       or put the directory holding PostgreSQL's `initdb` and `postgres` on PATH";

/// The shell that owns the server: creates the cluster, starts the server in the background,
/// then reads its standard input until it closes: a line `stop` stops the server (a fast
/// shutdown) and `start` starts it again (a test of a database restart); at the end it stops
/// the server and removes everything. Arguments: the programs' directory, the cluster's
/// directory.
const KEEPER: &str = r#"
bin=$1 dir=$2
if ! "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale --no-sync \
     >"$dir/initdb.log" 2>&1; then
  cat "$dir/initdb.log" >&2
  exit 1
fi
serve() {
  "$bin/postgres" -D "$dir/data" -k "$dir" -c listen_addresses= -c fsync=off \
    -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 \
    >>"$dir/server.log" 2>&1 &
  server=$!
}
serve
while read -r command; do
  case $command in
    stop) kill -INT "$server"; wait "$server";;
    start) serve;;
  esac
done
kill -INT "$server" 2>/dev/null
wait "$server"
rm -rf "$dir"
"#;

/// The running cluster.
pub struct Cluster {
    /// Where the socket is (libpq's `host` for a unix socket).
    dir: PathBuf,
    /// The write end of the keeper's standard input: closed only when the process ends.
    _keeper_input: Mutex<ChildStdin>,
    /// The keeper itself, never waited for (it outlives the tests by the moment it takes to
    /// stop the server).
    _keeper: Mutex<Child>,
    /// The databases handed out so far.
    databases: AtomicUsize,
}

static CLUSTER: OnceCell<Cluster> = OnceCell::const_new();

/// A fresh, empty database in the shared cluster (started on the first call), as a libpq
/// connection string.
pub async fn database() -> String {
    CLUSTER.get_or_init(start).await.database().await
}

/// A cluster of the caller's own, which it may stop and start again (no other test sees it).
pub async fn cluster_of_its_own() -> Cluster {
    start().await
}

impl Cluster {
    /// A fresh, empty database in this cluster, as a libpq connection string.
    pub async fn database(&self) -> String {
        let cluster = self;
        let n = cluster.databases.fetch_add(1, Ordering::Relaxed);
        let name = format!("test_{n}");
        let (client, connection) =
            tokio_postgres::connect(&cluster.url("postgres"), tokio_postgres::NoTls)
                .await
                .unwrap_or_else(|e| {
                    panic!(
                        "connecting to the test cluster in {}: {e}",
                        cluster.dir.display()
                    )
                });
        let connection = tokio::spawn(connection);
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| panic!("creating database {name}: {e}"));
        drop(client);
        let _ = connection.await;
        cluster.url(&name)
    }

    /// Stops the server (a fast shutdown: every connection is cut) and returns once it is
    /// down.
    pub async fn stop(&self) {
        self.command("stop");
        let pid_file = self.dir.join("data/postmaster.pid");
        super::eventually("the test cluster stops", async || !pid_file.exists()).await;
    }

    /// Starts the stopped server again and returns once it accepts connections.
    pub async fn start(&self) {
        self.command("start");
        let pid_file = self.dir.join("data/postmaster.pid");
        super::eventually("the test cluster starts again", async || {
            std::fs::read_to_string(&pid_file)
                .is_ok_and(|pid| pid.lines().any(|l| l.trim() == "ready"))
        })
        .await;
    }

    fn command(&self, line: &str) {
        use std::io::Write;
        let mut input = self
            ._keeper_input
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        writeln!(input, "{line}").expect("the test cluster's keeper listens");
        input.flush().expect("the test cluster's keeper listens");
    }

    fn url(&self, database: &str) -> String {
        format!(
            "host={} user=postgres dbname={database}",
            self.dir.display()
        )
    }
}

async fn start() -> Cluster {
    let bin = server_programs();
    let dir = tempfile::Builder::new()
        .prefix("it-pg-")
        .tempdir()
        .expect("a temporary directory for the test cluster")
        .keep();
    let mut command = match cluster_user() {
        Some(user) => {
            // The cluster's user must own its directory; the socket lives there too.
            std::os::unix::fs::chown(&dir, Some(user.uid), Some(user.gid))
                .unwrap_or_else(|e| panic!("handing {} to `postgres`: {e}", dir.display()));
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--", "sh", "-c", KEEPER, "keeper"]);
            command
        }
        None => {
            let mut command = Command::new("sh");
            command.args(["-c", KEEPER, "keeper"]);
            command
        }
    };
    let mut keeper = command
        .arg(&bin)
        .arg(&dir)
        // The test's working directory may be closed to the cluster's user.
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting PostgreSQL from {}: {e}", bin.display()));
    let input = keeper.stdin.take().expect("the keeper's input is piped");
    let pid_file = dir.join("data/postmaster.pid");
    super::eventually(
        format_args!(
            "the test cluster in {} to accept connections",
            dir.display()
        ),
        async || {
            if let Ok(Some(status)) = keeper.try_wait() {
                let mut why = String::new();
                if let Some(mut err) = keeper.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut err, &mut why);
                }
                let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
                panic!("the test cluster stopped ({status}): {why}{log}");
            }
            // The server writes "ready" into its pid file once it accepts connections.
            std::fs::read_to_string(&pid_file)
                .is_ok_and(|pid| pid.lines().any(|l| l.trim() == "ready"))
        },
    )
    .await;
    Cluster {
        dir,
        _keeper_input: Mutex::new(input),
        _keeper: Mutex::new(keeper),
        databases: AtomicUsize::new(0),
    }
}

/// The directory of `initdb` and `postgres`: on PATH (as a symbolic link, it leads to the
/// real directory), or Debian's `/usr/lib/postgresql/<version>/bin`, the newest version.
fn server_programs() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|dir| dir.join("initdb"))
        .find(|initdb| initdb.is_file())
        .and_then(|initdb| std::fs::canonicalize(initdb).ok())
        .and_then(|initdb| initdb.parent().map(Path::to_path_buf));
    let debian = || {
        let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let version = entry.file_name().to_string_lossy().parse().ok()?;
                Some((version, entry.path().join("bin")))
            })
            .collect();
        versions.sort();
        versions.pop().map(|(_, bin)| bin)
    };
    let Some(bin) = on_path.or_else(debian) else {
        panic!("PostgreSQL's server programs were not found: {INSTALL}");
    };
    for program in ["initdb", "postgres"] {
        assert!(
            bin.join(program).is_file(),
            "{} has no `{program}`: {INSTALL}",
            bin.display()
        );
    }
    bin
}

/// The user the cluster runs as, when this process is root.
struct ClusterUser {
    uid: u32,
    gid: u32,
}

fn cluster_user() -> Option<ClusterUser> {
    let me = std::fs::metadata("/proc/self").map_or(1, |m| m.uid());
    if me != 0 {
        return None;
    }
    let id = |flag: &str| -> u32 {
        let out = Command::new("id")
            .args([flag, "postgres"])
            .output()
            .unwrap_or_else(|e| panic!("looking up the `postgres` user: {e}"));
        assert!(
            out.status.success(),
            "running as root, the test cluster runs as the `postgres` user (initdb refuses \
             root), and there is none: {INSTALL}, which creates it"
        );
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("the `postgres` user's id: {e}"))
    };
    Some(ClusterUser {
        uid: id("-u"),
        gid: id("-g"),
    })
}
