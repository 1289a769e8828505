//! `S3Target` against a real S3 server (SeaweedFS on loopback, see `common`): round trips, names
//! as the replication code makes them, listing with pagination, prefixes that keep replicas
//! apart, refused addresses, and a server killed with SIGKILL then started again.

mod common;

use std::time::{Duration, Instant};

use chenilles_store::replica::{ReplicaError, ReplicaTarget};
use chenilles_store_s3::{S3Credentials, S3Target};
use common::{BUCKET, S3Server};

/// A pack's name as the replication code makes it: `packs/`, 64 hex digits, `.car`.
fn pack_name(i: usize) -> String {
    format!("packs/ab{i:060x}cd.car")
}

/// A root record's name: `roots/` then a 20-digit sequence number and a hash.
fn root_name(sequence: u64) -> String {
    format!("roots/{sequence:020}-{:064x}.root", sequence * 7919)
}

fn bytes_of(i: usize, len: usize) -> Vec<u8> {
    (0..len).map(|j| (i * 31 + j * 7) as u8).collect()
}

fn unavailable(result: Result<impl std::fmt::Debug, ReplicaError>, what: &str) -> String {
    match result {
        Err(ReplicaError::Unavailable { target, cause }) => format!("{target}: {cause}"),
        other => panic!("{what} gave {other:?}, not Unavailable"),
    }
}

#[test]
fn objects_go_in_and_come_back() {
    let server = S3Server::start();
    let target = server.target("node-1/replica");
    assert_eq!(target.describe(), format!("s3://{BUCKET}/node-1/replica at {}", server.endpoint()));
    assert_eq!(target.list(""), Ok(vec![]));

    let packs: Vec<String> = (0..3).map(pack_name).collect();
    let roots: Vec<String> = [42, 43, 1_000_000].into_iter().map(root_name).collect();
    for (i, name) in packs.iter().chain(&roots).enumerate() {
        assert_eq!(target.has(name), Ok(false), "{name}");
        assert_eq!(target.get(name), Ok(None), "{name}");
        target.put(name, &bytes_of(i, 1000 + i)).unwrap_or_else(|e| panic!("put {name}: {e}"));
    }
    for (i, name) in packs.iter().chain(&roots).enumerate() {
        assert_eq!(target.has(name), Ok(true), "{name}");
        assert_eq!(target.get(name), Ok(Some(bytes_of(i, 1000 + i))), "{name}");
    }

    let mut everything: Vec<String> = packs.iter().chain(&roots).cloned().collect();
    everything.sort();
    assert_eq!(target.list(""), Ok(everything));
    assert_eq!(target.list("packs/"), Ok(packs.clone()));
    assert_eq!(target.list("packs"), Ok(packs.clone()));
    assert_eq!(target.list("roots/"), Ok(roots.clone()));
    // A prefix in the middle of a segment: only what begins with it.
    assert_eq!(target.list("roots/0000000000000000004"), Ok(roots[..2].to_vec()));
    assert_eq!(target.list(&roots[2]), Ok(vec![roots[2].clone()]));
    assert_eq!(target.list("roots/9"), Ok(vec![]));
    assert_eq!(target.list("nothing/"), Ok(vec![]));

    // Empty and larger objects (a few MiB: past object_store's and SeaweedFS's chunk sizes).
    let big = bytes_of(9, 5 << 20);
    target.put("packs/empty.car", &[]).expect("put an empty object");
    target.put("packs/big.car", &big).expect("put a big object");
    assert_eq!(target.get("packs/empty.car"), Ok(Some(vec![])));
    assert_eq!(target.get("packs/big.car").map(|b| b.map(|b| b == big)), Ok(Some(true)));
}

#[test]
fn a_put_again_changes_nothing() {
    let server = S3Server::start();
    let target = server.target("again");
    let name = pack_name(7);
    for _ in 0..3 {
        target.put(&name, b"the same bytes").expect("put");
    }
    assert_eq!(target.get(&name), Ok(Some(b"the same bytes".to_vec())));
    assert_eq!(target.list(""), Ok(vec![name.clone()]));
    // Another target over the same place sees the same object.
    assert_eq!(server.target("again").get(&name), Ok(Some(b"the same bytes".to_vec())));
    // Called from inside someone else's async code (vm/net's thread runs a runtime), a target
    // neither panics nor deadlocks, and can be dropped there.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let inside = server.target("again");
        assert_eq!(inside.get(&name), Ok(Some(b"the same bytes".to_vec())));
        assert_eq!(inside.list("packs/"), Ok(vec![name.clone()]));
        drop(inside);
    });
}

#[test]
fn names_that_are_not_object_names_are_refused() {
    let server = S3Server::start();
    let target = server.target("p");
    for name in ["", "/packs/a", "packs/", "packs//a", "../a", "packs/./a", "packs/a b", "packs/a%2Fb"] {
        assert!(matches!(target.put(name, b"x"), Err(ReplicaError::BadTarget { .. })), "put {name:?}");
        assert!(matches!(target.get(name), Err(ReplicaError::BadTarget { .. })), "get {name:?}");
        assert!(matches!(target.has(name), Err(ReplicaError::BadTarget { .. })), "has {name:?}");
    }
    assert!(matches!(target.list("../"), Err(ReplicaError::BadTarget { .. })));
    assert_eq!(target.list(""), Ok(vec![]));
}

#[test]
fn listing_goes_past_a_page() {
    // S3 lists at most 1000 keys per page: 2100 objects take three.
    const COUNT: usize = 2100;
    let server = S3Server::start();
    let target = server.target("many");
    let started = Instant::now();
    std::thread::scope(|scope| {
        for worker in 0..4 {
            let target = &target;
            scope.spawn(move || {
                for i in (worker..COUNT).step_by(4) {
                    target.put(&pack_name(i), &bytes_of(i, 64)).unwrap_or_else(|e| panic!("put {i}: {e}"));
                }
            });
        }
    });
    eprintln!("{COUNT} puts in {:?}", started.elapsed());
    target.put(&root_name(1), b"root").expect("put a root");
    let started = Instant::now();
    let mut expected: Vec<String> = (0..COUNT).map(pack_name).collect();
    expected.sort();
    assert_eq!(target.list("packs/"), Ok(expected.clone()));
    let all = target.list("").expect("list everything");
    assert_eq!(all.len(), COUNT + 1);
    assert_eq!(all.last(), Some(&root_name(1)));
    eprintln!("two lists in {:?}", started.elapsed());
}

#[test]
fn prefixes_keep_replicas_apart_in_one_bucket() {
    let server = S3Server::start();
    let a = server.target("node-a");
    let ab = server.target("node-ab");
    let nested = server.target("node-a/inner");
    let whole = server.target("");
    assert_eq!(whole.describe(), format!("s3://{BUCKET} at {}", server.endpoint()));

    a.put(&pack_name(1), b"a's").expect("put in a");
    ab.put(&pack_name(1), b"ab's").expect("put in ab");
    ab.put(&pack_name(2), b"ab's only").expect("put in ab");
    nested.put(&root_name(5), b"nested").expect("put in nested");

    assert_eq!(a.get(&pack_name(1)), Ok(Some(b"a's".to_vec())));
    assert_eq!(ab.get(&pack_name(1)), Ok(Some(b"ab's".to_vec())));
    assert_eq!(a.get(&pack_name(2)), Ok(None));
    assert_eq!(a.has(&pack_name(2)), Ok(false));
    assert_eq!(a.list("packs/"), Ok(vec![pack_name(1)]));
    assert_eq!(ab.list(""), Ok(vec![pack_name(1), pack_name(2)]));
    assert_eq!(nested.list(""), Ok(vec![root_name(5)]));
    // A replica's prefix is only a place in the bucket: the enclosing one sees the nested objects.
    assert_eq!(a.list("inner/"), Ok(vec![format!("inner/{}", root_name(5))]));
    // (Without the objects the server's start wrote to see that it reads and writes.)
    let listed = whole.list("").map(|names| names.into_iter().filter(|n| !n.starts_with("ready-probe-")).collect());
    assert_eq!(
        listed,
        Ok(vec![
            format!("node-a/inner/{}", root_name(5)),
            format!("node-a/{}", pack_name(1)),
            format!("node-ab/{}", pack_name(1)),
            format!("node-ab/{}", pack_name(2)),
        ])
    );
    assert_eq!(whole.get(&format!("node-ab/{}", pack_name(2))), Ok(Some(b"ab's only".to_vec())));
}

#[test]
fn bad_addresses_are_bad_targets() {
    let credentials = S3Server::credentials();
    for address in [
        "",
        "not a url",
        "/some/directory",
        "https://bucket.s3.amazonaws.com/p",
        "s3://",
        "s3://Upper/p",
        "s3://b/p?endpoint=ftp://127.0.0.1:21",
        "s3://bucket/p?endpoint=http://127.0.0.1:1&endpint=typo",
        "s3://bucket/p?region=not%20a%20region",
        "s3://bucket:8333/p",
    ] {
        match S3Target::from_url_with_credentials(address, credentials.clone()) {
            Err(ReplicaError::BadTarget { target, cause }) => {
                assert!(!cause.is_empty(), "{address:?}");
                assert_eq!(target, address);
            }
            other => panic!("{address:?} gave {other:?}"),
        }
    }
}

#[test]
fn addresses_with_credentials_are_refused_without_showing_them() {
    for address in [
        "s3://AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMIbPxRfiCYEXAMPLEKEY@bucket/p?endpoint=http://127.0.0.1:8333",
        "s3://AKIAIOSFODNN7EXAMPLE@bucket/p",
        "s3://bucket/p?endpoint=http://AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMIbPxRfiCYEXAMPLEKEY@127.0.0.1:8333",
    ] {
        for result in
            [S3Target::from_url(address), S3Target::from_url_with_credentials(address, S3Server::credentials())]
        {
            let error = result.expect_err(address);
            assert!(matches!(error, ReplicaError::BadTarget { .. }), "{error:?}");
            let said = error.to_string();
            assert!(said.contains("AWS_ACCESS_KEY_ID") && said.contains("AWS_SECRET_ACCESS_KEY"), "{said}");
            assert!(
                !said.contains("AKIAIOSFODNN7EXAMPLE") && !said.contains("wJalrXUtnFEMIbPxRfiCYEXAMPLEKEY"),
                "{said}"
            );
        }
    }
}

/// Run by [`from_url_takes_the_credentials_of_the_environment`] in a child process with the
/// environment it sets (tests cannot set variables in their own process); nothing otherwise.
#[test]
fn environment_child() {
    let Ok(address) = std::env::var("CHENILLES_S3_CHILD_URL") else { return };
    match S3Target::from_url(&address) {
        Ok(target) => {
            target.put("packs/from-env.car", b"env").expect("put with the environment's keys");
            println!("CHILD: {:?}", target.get("packs/from-env.car"));
        }
        Err(error) => println!("CHILD: {error}"),
    }
}

#[test]
fn from_url_takes_the_credentials_of_the_environment() {
    let server = S3Server::start();
    let child = |credentials: Option<(&str, &str)>| {
        let mut command = std::process::Command::new(std::env::current_exe().expect("the test binary"));
        command
            .args(["--exact", "environment_child", "--nocapture", "--test-threads=1"])
            .env("CHENILLES_S3_CHILD_URL", server.url("env"))
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_SESSION_TOKEN");
        if let Some((id, secret)) = credentials {
            command.env("AWS_ACCESS_KEY_ID", id).env("AWS_SECRET_ACCESS_KEY", secret);
        }
        let output = command.output().expect("run the child");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
        stdout
            .lines()
            .find_map(|l| l.split_once("CHILD: ").map(|(_, said)| said))
            .map(str::to_string)
            .unwrap_or_else(|| panic!("{stdout}"))
    };
    assert_eq!(child(Some((common::ACCESS_KEY_ID, common::SECRET_ACCESS_KEY))), r#"Ok(Some([101, 110, 118]))"#);
    let said = child(None);
    assert!(said.contains("no S3 credentials") && said.contains("AWS_ACCESS_KEY_ID"), "{said}");
}

#[test]
fn keys_the_server_does_not_know_are_unavailable() {
    let server = S3Server::start();
    let stranger =
        S3Target::from_url_with_credentials(&server.url("p"), S3Credentials::new("nobody", "not-the-secret"))
            .expect("the address is good");
    let started = Instant::now();
    let said = unavailable(stranger.put(&pack_name(1), b"x"), "a put with unknown keys");
    assert!(said.contains("InvalidAccessKeyId") || said.contains("403"), "{said}");
    unavailable(stranger.list(""), "a list with unknown keys");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
}

#[test]
fn a_bucket_that_is_not_there_is_unavailable() {
    let server = S3Server::start();
    let address = format!("s3://no-such-bucket/p?endpoint={}", server.endpoint());
    let target = S3Target::from_url_with_credentials(&address, S3Server::credentials()).expect("a good address");
    let said = unavailable(target.list(""), "a list in a bucket that is not there");
    assert!(said.contains("NoSuchBucket"), "{said}");
    // A GET's 404 says which: the bucket, not the object, is missing.
    let said = unavailable(target.get(&pack_name(1)), "a get from a bucket that is not there");
    assert!(said.contains("NoSuchBucket"), "{said}");
    // (The server makes no bucket at a put: `-s3.autoCreateBucket=false`, as AWS.)
    unavailable(target.put(&pack_name(1), b"x"), "a put in a bucket that is not there");
}

#[test]
fn a_killed_server_is_unavailable_within_seconds_and_keeps_its_objects() {
    let mut server = S3Server::start();
    let target = server.target("survivor");
    let names: Vec<String> = (0..20).map(pack_name).chain([root_name(42)]).collect();
    for (i, name) in names.iter().enumerate() {
        target.put(name, &bytes_of(i, 4096)).expect("put before the kill");
    }

    server.kill();
    let started = Instant::now();
    let mut causes = vec![
        unavailable(target.put(&pack_name(99), b"late"), "a put to a dead server"),
        unavailable(target.get(&names[0]), "a get from a dead server"),
        unavailable(target.has(&names[1]), "a has of a dead server"),
        unavailable(target.list(""), "a list of a dead server"),
    ];
    let elapsed = started.elapsed();
    eprintln!("four requests to a dead server failed in {elapsed:?}: {}", causes[0]);
    assert!(elapsed < Duration::from_secs(30), "{elapsed:?}");
    // A new target finds it down too, as quickly.
    let fresh = server.target("survivor");
    causes.push(unavailable(fresh.get(&names[0]), "a get from a dead server"));
    for cause in &causes {
        assert!(cause.starts_with(&format!("s3://{BUCKET}/survivor at ")), "{cause}");
    }

    server.restart();
    for (i, name) in names.iter().enumerate() {
        assert_eq!(target.get(name), Ok(Some(bytes_of(i, 4096))), "{name} after the restart");
    }
    assert_eq!(target.has(&pack_name(99)), Ok(false));
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(target.list(""), Ok(sorted));
    target.put(&pack_name(99), b"late").expect("put after the restart");
    assert_eq!(fresh.get(&pack_name(99)), Ok(Some(b"late".to_vec())));
}
