//! Replicas in S3-compatible object stores: [`S3Target`], a [`ReplicaTarget`] over the S3 API of
//! AWS itself or any server that speaks it (SeaweedFS, MinIO, Garage, Ceph…), through the
//! `object_store` crate, and the private tokio runtime that drives its requests.
//!
//! The rest of Chenilles is synchronous: each target owns a small runtime and blocks on it inside
//! every [`ReplicaTarget`] method, so callers never see a future. Every request is bounded (a
//! connect timeout, a request timeout, a few quick retries): a server that is down answers
//! [`ReplicaError::Unavailable`] within seconds.
//!
//! A target is named by an address such as
//! `s3://BUCKET/optional/prefix?endpoint=http://127.0.0.1:8333&region=us-east-1`; credentials
//! come from the standard environment variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_SESSION_TOKEN`), never from the address.

#![deny(missing_docs)]

use std::fmt;
use std::future::Future;
use std::time::Duration;

use chenilles_store::replica::{ReplicaError, ReplicaTarget};
use futures::TryStreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig};

/// How long a connection to the server may take to open.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one request may take, from its start to the end of its response body.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How many times a failed request (a refused connection, a 5xx answer) is tried again.
pub const MAX_RETRIES: usize = 3;
/// No request is tried again once this long has passed since its first try.
pub const RETRY_TIMEOUT: Duration = Duration::from_secs(10);

/// The query parameters an `s3://` address may carry.
const PARAMETERS: &str = "endpoint, region";
/// The region when the address names none.
const DEFAULT_REGION: &str = "us-east-1";

/// The keys that sign requests to an S3 server. They come from the environment
/// ([`S3Credentials::from_env`]) or from the caller, never from an address. Their `Debug` output
/// shows the access key id alone.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Credentials {
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
}

impl S3Credentials {
    /// Long-term keys: an access key id and its secret.
    pub fn new(access_key_id: impl Into<String>, secret_access_key: impl Into<String>) -> S3Credentials {
        S3Credentials {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token: None,
        }
    }

    /// The same keys with the session token that temporary keys need.
    pub fn with_session_token(mut self, session_token: impl Into<String>) -> S3Credentials {
        self.session_token = Some(session_token.into());
        self
    }

    /// The keys in the standard environment variables `AWS_ACCESS_KEY_ID` and
    /// `AWS_SECRET_ACCESS_KEY` (with `AWS_SESSION_TOKEN` when set), or `None` unless both are set
    /// and not empty.
    pub fn from_env() -> Option<S3Credentials> {
        let variable = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let credentials = S3Credentials::new(variable("AWS_ACCESS_KEY_ID")?, variable("AWS_SECRET_ACCESS_KEY")?);
        Some(match variable("AWS_SESSION_TOKEN") {
            Some(token) => credentials.with_session_token(token),
            None => credentials,
        })
    }

    /// The access key id (not secret).
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }
}

impl fmt::Debug for S3Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<hidden>")
            .field("session_token", &self.session_token.as_ref().map(|_| "<hidden>"))
            .finish()
    }
}

/// What an `s3://` address says, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Address {
    bucket: String,
    /// Plain segments joined by `/`, without a leading or trailing one; may be empty.
    prefix: String,
    /// `http(s)://host[:port][/path]` without a trailing `/`; `None` for AWS itself.
    endpoint: Option<String>,
    region: String,
}

impl Address {
    fn parse(address: &str) -> Result<Address, ReplicaError> {
        let bad = |cause: String| ReplicaError::BadTarget { target: redacted(address), cause };
        let url = url::Url::parse(address).map_err(|e| bad(format!("not a URL ({e})")))?;
        if url.scheme() != "s3" {
            return Err(bad(format!("the scheme is {:?}: an S3 address begins with s3://", url.scheme())));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad(credentials_refused()));
        }
        if url.port().is_some() {
            return Err(bad("an s3:// address names a bucket, not a port: give the server as ?endpoint=".into()));
        }
        if url.fragment().is_some() {
            return Err(bad("an s3:// address has no #fragment".into()));
        }
        let bucket = url.host_str().unwrap_or_default().to_string();
        check_bucket(&bucket).map_err(bad)?;
        let path = url.path().trim_start_matches('/').trim_end_matches('/');
        if !path.is_empty() && !is_plain_name(path) {
            return Err(bad(format!(
                "the prefix {path:?} is not plain: segments of letters, digits, '-', '_' and '.', joined by '/'"
            )));
        }
        let mut endpoint = None;
        let mut region = None;
        for (key, value) in url.query_pairs() {
            let slot = match &*key {
                "endpoint" => &mut endpoint,
                "region" => &mut region,
                other => return Err(bad(format!("unknown parameter {other:?} (known: {PARAMETERS})"))),
            };
            if slot.is_some() {
                return Err(bad(format!("the parameter {key:?} is given twice")));
            }
            *slot = Some(value.into_owned());
        }
        let endpoint = endpoint.map(|endpoint| check_endpoint(&endpoint)).transpose().map_err(bad)?;
        let region = region.unwrap_or_else(|| DEFAULT_REGION.to_string());
        if region.is_empty() || !region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            return Err(bad(format!("the region {region:?} is not a region name (such as us-east-1)")));
        }
        Ok(Address { bucket, prefix: path.to_string(), endpoint, region })
    }
}

fn credentials_refused() -> String {
    "an address carries no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and \
     AWS_SESSION_TOKEN for temporary keys) in the environment instead"
        .to_string()
}

/// S3's rules for bucket names: 3 to 63 lowercase letters, digits, '.' and '-', beginning and
/// ending with a letter or a digit.
fn check_bucket(bucket: &str) -> Result<(), String> {
    if bucket.is_empty() {
        return Err("no bucket: an address is s3://BUCKET/optional/prefix".into());
    }
    let edges_ok = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    let ok = (3..=63).contains(&bucket.len())
        && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && edges_ok(bucket.bytes().next())
        && edges_ok(bucket.bytes().last())
        && !bucket.contains("..");
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{bucket:?} is not a bucket name: 3 to 63 lowercase letters, digits, '.' and '-', beginning and \
             ending with a letter or a digit"
        ))
    }
}

/// An endpoint is `http://` or `https://` with a host, an optional port and path, and nothing else.
fn check_endpoint(endpoint: &str) -> Result<String, String> {
    let url =
        url::Url::parse(endpoint).map_err(|e| format!("the endpoint {:?} is not a URL ({e})", redacted(endpoint)))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(credentials_refused());
    }
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(format!("the endpoint {endpoint:?} is neither http:// nor https://"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("the endpoint {endpoint:?} names no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("the endpoint {endpoint:?} has a query or a fragment: give it as host[:port][/path]"));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// `address` with any `user:password@` after a `://` (plain or percent-encoded) replaced by `***@`,
/// so that an address refused for carrying credentials never shows them.
fn redacted(address: &str) -> String {
    let lower = address.to_ascii_lowercase();
    let mut starts: Vec<usize> = Vec::new();
    for marker in ["://", "%3a%2f%2f"] {
        starts.extend(lower.match_indices(marker).map(|(at, m)| at + m.len()));
    }
    starts.sort_unstable();
    let mut out = String::new();
    let mut copied = 0;
    for start in starts {
        if start < copied {
            continue;
        }
        let rest = &lower[start..];
        let end = ["/", "?", "#", "&", "%2f", "%3f", "%23", "%26"]
            .iter()
            .filter_map(|stop| rest.find(stop))
            .min()
            .unwrap_or(rest.len());
        let authority = &rest[..end];
        let at = [authority.rfind('@'), authority.rfind("%40")].into_iter().flatten().max();
        if let Some(at) = at {
            out.push_str(&address[copied..start]);
            out.push_str("***");
            copied = start + at;
        }
    }
    out.push_str(&address[copied..]);
    out
}

/// Whether `name` is plain segments (letters, digits, `-`, `_`, `.`, not `.` or `..`) joined by
/// `/`: the names the replication code makes, and nothing that a key could misread.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.split('/').all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        })
}

/// The runtime that drives a target's requests; shut down without waiting when the target goes,
/// so that dropping a target never blocks, even inside someone else's async code.
struct Driver(Option<tokio::runtime::Runtime>);

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// A replica in a bucket of an S3-compatible object store, under an optional key prefix: object
/// `packs/HASH.car` of the replica is key `PREFIX/packs/HASH.car` in the bucket. Several replicas
/// can share a bucket under different prefixes.
pub struct S3Target {
    store: AmazonS3,
    handle: tokio::runtime::Handle,
    _driver: Driver,
    address: Address,
}

impl fmt::Debug for S3Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the store: its configuration holds the credentials.
        f.debug_struct("S3Target").field("target", &self.describe()).finish()
    }
}

impl S3Target {
    /// The target at `address`, `s3://BUCKET/optional/prefix?endpoint=URL&region=REGION`, signed
    /// with the credentials of the environment ([`S3Credentials::from_env`]).
    ///
    /// Without `endpoint` the target is AWS S3 itself; with one (`http://127.0.0.1:8333`,
    /// `https://s3.example.net`) it is that server, addressed path-style (`ENDPOINT/BUCKET/KEY`),
    /// and plain HTTP is allowed when the endpoint says `http://`. `region` defaults to
    /// `us-east-1`. An address that cannot be understood, that carries credentials
    /// (`user:password@`), or a missing credential in the environment is
    /// [`ReplicaError::BadTarget`]. Nothing is sent to the server yet.
    pub fn from_url(address: &str) -> Result<S3Target, ReplicaError> {
        let parsed = Address::parse(address)?;
        let credentials = S3Credentials::from_env().ok_or_else(|| ReplicaError::BadTarget {
            target: redacted(address),
            cause: "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN \
                    for temporary keys) in the environment"
                .into(),
        })?;
        S3Target::open(parsed, credentials)
    }

    /// The target at `address` (as for [`S3Target::from_url`]) signed with `credentials`, whatever
    /// the environment says.
    pub fn from_url_with_credentials(address: &str, credentials: S3Credentials) -> Result<S3Target, ReplicaError> {
        S3Target::open(Address::parse(address)?, credentials)
    }

    fn open(address: Address, credentials: S3Credentials) -> Result<S3Target, ReplicaError> {
        let target = describe(&address);
        let options = ClientOptions::new()
            .with_connect_timeout(CONNECT_TIMEOUT)
            .with_timeout(REQUEST_TIMEOUT)
            .with_allow_http(address.endpoint.as_deref().is_some_and(|e| e.starts_with("http://")));
        let retry = RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(2),
                base: 2.0,
            },
            max_retries: MAX_RETRIES,
            retry_timeout: RETRY_TIMEOUT,
        };
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&address.bucket)
            .with_region(&address.region)
            .with_access_key_id(credentials.access_key_id)
            .with_secret_access_key(credentials.secret_access_key)
            .with_client_options(options)
            .with_retry(retry);
        if let Some(token) = credentials.session_token {
            builder = builder.with_token(token);
        }
        if let Some(endpoint) = &address.endpoint {
            builder = builder.with_endpoint(endpoint).with_virtual_hosted_style_request(false);
        }
        let store =
            builder.build().map_err(|e| ReplicaError::BadTarget { target: target.clone(), cause: error_chain(&e) })?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("chenilles-s3")
            .enable_all()
            .build()
            .map_err(|e| ReplicaError::Unavailable {
                target: target.clone(),
                cause: format!("cannot start the threads of its client: {e}"),
            })?;
        Ok(S3Target { store, handle: runtime.handle().clone(), _driver: Driver(Some(runtime)), address })
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.address.bucket
    }

    /// The key prefix of the replica's objects in the bucket, without a trailing `/` (empty for
    /// the whole bucket).
    pub fn prefix(&self) -> &str {
        &self.address.prefix
    }

    /// The server, `None` for AWS S3 itself.
    pub fn endpoint(&self) -> Option<&str> {
        self.address.endpoint.as_deref()
    }

    /// The region requests are signed for.
    pub fn region(&self) -> &str {
        &self.address.region
    }

    /// Runs `work` on the target's runtime and waits for it. From inside another runtime (where
    /// blocking that runtime's thread on ours would panic) it waits on a thread of its own.
    fn run<T: Send>(&self, work: impl Future<Output = T> + Send) -> T {
        if tokio::runtime::Handle::try_current().is_err() {
            return self.handle.block_on(work);
        }
        std::thread::scope(|scope| match scope.spawn(|| self.handle.block_on(work)).join() {
            Ok(value) => value,
            Err(panic) => std::panic::resume_unwind(panic),
        })
    }

    /// The key of object `name`; names other than plain segments are refused.
    fn key(&self, name: &str) -> Result<Path, ReplicaError> {
        if !is_plain_name(name) {
            return Err(ReplicaError::BadTarget {
                target: self.describe(),
                cause: format!("{name:?} is not an object name"),
            });
        }
        self.path(name)
    }

    /// `PREFIX/relative` as a path (`relative` is plain or empty).
    fn path(&self, relative: &str) -> Result<Path, ReplicaError> {
        let key = match (self.address.prefix.is_empty(), relative.is_empty()) {
            (true, _) => relative.to_string(),
            (false, true) => self.address.prefix.clone(),
            (false, false) => format!("{}/{relative}", self.address.prefix),
        };
        Path::parse(&key).map_err(|e| ReplicaError::BadTarget {
            target: self.describe(),
            cause: format!("{relative:?} is not an object name: {}", error_chain(&e)),
        })
    }

    fn unavailable(&self, what: String, error: &object_store::Error) -> ReplicaError {
        ReplicaError::Unavailable { target: self.describe(), cause: format!("{what}: {}", error_chain(error)) }
    }
}

/// `s3://bucket/prefix at ENDPOINT`.
fn describe(address: &Address) -> String {
    let location = match address.prefix.as_str() {
        "" => format!("s3://{}", address.bucket),
        prefix => format!("s3://{}/{prefix}", address.bucket),
    };
    match &address.endpoint {
        Some(endpoint) => format!("{location} at {endpoint}"),
        None => format!("{location} at https://s3.{}.amazonaws.com", address.region),
    }
}

/// Whether a 404 is S3's `NoSuchBucket` (the bucket is missing: the target is wrong, not the
/// object absent) rather than `NoSuchKey`. object_store makes both `NotFound`; the answer's body,
/// in the error, says which.
fn no_such_bucket(error: &object_store::Error) -> bool {
    error_chain(error).contains("<Code>NoSuchBucket</Code>")
}

/// An error and its causes, each said once.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let said = cause.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        source = cause.source();
    }
    text
}

impl ReplicaTarget for S3Target {
    fn describe(&self) -> String {
        describe(&self.address)
    }

    fn put(&self, name: &str, bytes: &[u8]) -> Result<(), ReplicaError> {
        let key = self.key(name)?;
        // Objects are named by the hash of their bytes: a plain PUT of a name already there
        // writes the same bytes again. The server's acknowledgement is the durability.
        let payload = PutPayload::from(bytes.to_vec());
        self.run(self.store.put(&key, payload)).map_err(|e| self.unavailable(format!("cannot put {name}"), &e))?;
        Ok(())
    }

    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, ReplicaError> {
        let key = self.key(name)?;
        let fetched = self.run(async {
            let result = self.store.get(&key).await?;
            result.bytes().await
        });
        match fetched {
            Ok(bytes) => Ok(Some(bytes.to_vec())),
            Err(e @ object_store::Error::NotFound { .. }) if !no_such_bucket(&e) => Ok(None),
            Err(e) => Err(self.unavailable(format!("cannot get {name}"), &e)),
        }
    }

    /// A HEAD, so the object's bytes are not fetched. (S3 answers a HEAD in a bucket that is not
    /// there with a bare 404, as for an object that is not there: both are `Ok(false)`; `get` and
    /// `list` tell them apart.)
    fn has(&self, name: &str) -> Result<bool, ReplicaError> {
        let key = self.key(name)?;
        match self.run(self.store.head(&key)) {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(self.unavailable(format!("cannot look for {name}"), &e)),
        }
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, ReplicaError> {
        // object_store lists by whole segments (`roots` finds `roots/…`, not `rootsx/…`): list
        // the prefix's directory, then keep the names that begin with the prefix.
        let directory = prefix.rsplit_once('/').map(|(directory, _)| directory).unwrap_or("");
        if !directory.is_empty() && !is_plain_name(directory) {
            return Err(ReplicaError::BadTarget {
                target: self.describe(),
                cause: format!("{prefix:?} is not a prefix of object names"),
            });
        }
        let listed = self.path(directory)?;
        let listed = (!listed.as_ref().is_empty()).then_some(listed);
        let objects = self
            .run(self.store.list(listed.as_ref()).try_collect::<Vec<_>>())
            .map_err(|e| self.unavailable(format!("cannot list {prefix:?}"), &e))?;
        let own = match self.address.prefix.as_str() {
            "" => String::new(),
            own => format!("{own}/"),
        };
        let mut names: Vec<String> = objects
            .iter()
            .filter_map(|object| object.location.as_ref().strip_prefix(own.as_str()))
            .filter(|name| name.starts_with(prefix))
            .map(str::to_string)
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(address: &str) -> Result<Address, String> {
        Address::parse(address).map_err(|e| e.to_string())
    }

    #[test]
    fn addresses_say_bucket_prefix_endpoint_and_region() {
        let address = parse("s3://backups/node-1/replica?endpoint=http://127.0.0.1:8333&region=eu-west-3");
        assert_eq!(
            address,
            Ok(Address {
                bucket: "backups".into(),
                prefix: "node-1/replica".into(),
                endpoint: Some("http://127.0.0.1:8333".into()),
                region: "eu-west-3".into(),
            })
        );
        let aws = parse("s3://backups").map_err(|e| e.to_string());
        assert_eq!(
            aws,
            Ok(Address { bucket: "backups".into(), prefix: String::new(), endpoint: None, region: "us-east-1".into() })
        );
        assert_eq!(parse("s3://backups/").map(|a| a.prefix), Ok(String::new()));
        assert_eq!(parse("s3://backups/p/").map(|a| a.prefix), Ok("p".into()));
        assert_eq!(
            parse("s3://b.c-d/p?endpoint=https%3A%2F%2Fs3.example.net%2F").map(|a| a.endpoint),
            Ok(Some("https://s3.example.net".into()))
        );
    }

    #[test]
    fn descriptions_name_the_bucket_prefix_and_server() {
        let describe_of = |address: &str| parse(address).map(|a| describe(&a));
        assert_eq!(
            describe_of("s3://backups/p?endpoint=http://127.0.0.1:8333/"),
            Ok("s3://backups/p at http://127.0.0.1:8333".into())
        );
        assert_eq!(
            describe_of("s3://backups?region=eu-west-3"),
            Ok("s3://backups at https://s3.eu-west-3.amazonaws.com".into())
        );
    }

    #[test]
    fn bad_addresses_are_refused_with_a_cause() {
        for (address, cause) in [
            ("", "not a URL"),
            ("backups/p", "not a URL"),
            ("http://backups/p", "begins with s3://"),
            ("s3://", "no bucket"),
            ("s3:///p", "no bucket"),
            ("s3://Backups", "not a bucket name"),
            ("s3://ab", "not a bucket name"),
            ("s3://-ab", "not a bucket name"),
            ("s3://a_b", "not a bucket name"),
            ("s3://backups:9000/p", "not a port"),
            ("s3://backups/p#x", "no #fragment"),
            ("s3://backups/a//b", "is not plain"),
            ("s3://backups/a%20b", "is not plain"),
            ("s3://backups?endpoint=ftp://host", "neither http:// nor https://"),
            ("s3://backups?endpoint=localhost:8333", "neither http:// nor https://"),
            ("s3://backups?endpoint=127.0.0.1:8333", "not a URL"),
            ("s3://backups?endpoint=", "not a URL"),
            ("s3://backups?endpoint=http://h&endpoint=http://i", "given twice"),
            ("s3://backups?endpoint=http://h%3Fx%3D1", "a query or a fragment"),
            ("s3://backups?region=", "not a region name"),
            ("s3://backups?region=EU%20West", "not a region name"),
            ("s3://backups?bucket=x", "unknown parameter \"bucket\""),
        ] {
            match Address::parse(address) {
                Err(ReplicaError::BadTarget { cause: said, .. }) => {
                    assert!(said.contains(cause), "{address:?}: {said:?} does not say {cause:?}")
                }
                other => panic!("{address:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn credentials_in_an_address_are_refused_and_never_shown() {
        for address in [
            "s3://AKIAEXAMPLE:s3cr3t@backups/p",
            "s3://AKIAEXAMPLE@backups/p",
            "s3://backups/p?endpoint=http://AKIAEXAMPLE:s3cr3t@127.0.0.1:8333",
            "s3://backups/p?endpoint=http%3A%2F%2FAKIAEXAMPLE%3As3cr3t%40127.0.0.1%3A8333",
        ] {
            match Address::parse(address) {
                Err(error @ ReplicaError::BadTarget { .. }) => {
                    let said = error.to_string();
                    assert!(said.contains("AWS_ACCESS_KEY_ID"), "{said}");
                    assert!(!said.contains("s3cr3t") && !said.contains("AKIAEXAMPLE"), "{said}");
                }
                other => panic!("{address:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn redaction_keeps_everything_but_the_user_part() {
        assert_eq!(redacted("s3://k:s@b/p?endpoint=http://x:y@h:1/z"), "s3://***@b/p?endpoint=http://***@h:1/z");
        assert_eq!(redacted("s3://b/p?endpoint=http://h:1"), "s3://b/p?endpoint=http://h:1");
        assert_eq!(redacted("s3://b/p@q"), "s3://b/p@q");
        assert_eq!(redacted("x%3A%2F%2Fk%3As%40h"), "x%3A%2F%2F***%40h");
    }

    #[test]
    fn object_names_are_plain_segments() {
        assert!(is_plain_name("packs/ab12.car"));
        assert!(is_plain_name("roots/00000000000000000042-ab.root"));
        for name in ["", "/a", "a/", "a//b", "../a", "a/./b", "a b", "a%2Fb", "a\\b"] {
            assert!(!is_plain_name(name), "{name:?}");
        }
    }
}
