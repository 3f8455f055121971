//! [`EventBus`] on Pub/Sub (crate `google-cloud-pubsub`, Google's client).
//!
//! Mapping:
//! * a topic is `projects/{project}/topics/{topic}`, a subscription
//!   `projects/{project}/subscriptions/{subscription}`;
//! * `create_subscription` also creates the subscription's dead-letter topic
//!   and a subscription on it, both named `{subscription}-dead-letter`, and
//!   gives the subscription a dead-letter policy of `max_attempts` delivery
//!   attempts. Pub/Sub accepts 5..=100 attempts, and only counts attempts
//!   (`delivery_attempt`) on a subscription with such a policy, so other
//!   values are refused. In production the Pub/Sub service agent needs the
//!   publisher role on the dead-letter topic and the subscriber role on the
//!   subscription (Google's dead-letter set-up);
//! * the ack deadline is the subscription's (Pub/Sub takes 10..=600 s and
//!   clamps others). The client receives messages over a streaming pull and
//!   holds each one's lease for at most the ack deadline
//!   (`set_max_lease`): a message not acked by then is redelivered by
//!   Pub/Sub with the next attempt number, within one more deadline;
//! * `pull` hands out messages the stream has received (the stream of a
//!   subscription starts with its first `pull`; that first call waits up to
//!   [`FIRST_PULL_WAIT`] for a message); `ack` acks, `nack` sets the
//!   deadline to zero, so the message is redelivered at once;
//! * message ids: `publish` returns an id of its own, carried in the
//!   attribute [`MESSAGE_ID_ATTRIBUTE`] (hidden from deliveries), because
//!   Pub/Sub gives a message forwarded to the dead-letter topic a new id; a
//!   message published by another client without it keeps Pub/Sub's id;
//! * `dead_letters` reads the dead-letter subscription and keeps what it
//!   read in this handle, un-acked (leased), so each call returns every dead
//!   letter seen so far; the attempt count is Pub/Sub's
//!   `CloudPubSubDeadLetterSourceDeliveryCount` attribute, and the
//!   `CloudPubSubDeadLetter*` attributes Pub/Sub adds are hidden.
//!
//! Against the emulator (`PUBSUB_EMULATOR_HOST` set; Google's client does
//! not read it) [`PubSubEventBus::connect`] points every client at
//! `http://$PUBSUB_EMULATOR_HOST` with anonymous credentials.

use crate::bus::{Delivery, EventBus, EventBusError};
use async_trait::async_trait;
use bytes::Bytes;
use google_cloud_auth::credentials::anonymous::Builder as Anonymous;
use google_cloud_gax::error::rpc::Code;
use google_cloud_pubsub::client::{
    BasePublisher, Publisher, Subscriber, SubscriptionAdmin, TopicAdmin,
};
use google_cloud_pubsub::error::PublishError;
use google_cloud_pubsub::model::push_config::OidcToken;
use google_cloud_pubsub::model::{DeadLetterPolicy, Message, PushConfig};
use google_cloud_pubsub::subscriber::handler::Handler;
use google_cloud_pubsub::subscriber::{ShutdownBehavior, ShutdownToken};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

pub use crate::bus::MESSAGE_ID_ATTRIBUTE;
/// Prefix of the attributes Pub/Sub adds to a dead-lettered message.
const DEAD_LETTER_ATTRIBUTE_PREFIX: &str = "CloudPubSubDeadLetter";
const DEAD_LETTER_COUNT_ATTRIBUTE: &str = "CloudPubSubDeadLetterSourceDeliveryCount";
/// Suffix of a subscription's dead-letter topic and subscription.
pub const DEAD_LETTER_SUFFIX: &str = "-dead-letter";
/// How long the first `pull` of a subscription waits for its stream.
pub const FIRST_PULL_WAIT: Duration = Duration::from_secs(2);
/// How long `close` waits for a stream to flush its acks and nacks.
const CLOSE_WAIT: Duration = Duration::from_secs(10);
/// The delivery attempts Pub/Sub's dead-letter policy accepts.
pub const MAX_ATTEMPTS_RANGE: std::ops::RangeInclusive<u32> = 5..=100;
/// Dead letters are held (leased) this long before Pub/Sub may send them
/// again (they are then recognised by id and not listed twice).
const DEAD_LETTER_LEASE: Duration = Duration::from_secs(3600);

type Received = google_cloud_pubsub::Result<(Message, Handler)>;

/// Where a push subscription delivers.
#[derive(Debug, Clone)]
pub struct PushTarget {
    /// `https://SERVICE/pubsub/push`.
    pub endpoint: String,
    /// The service account Pub/Sub signs the OIDC token as.
    pub service_account: String,
    /// The token's audience.
    pub audience: String,
}

/// The messages of one subscription's stream, and those handed out.
struct SubStream {
    rx: mpsc::UnboundedReceiver<Received>,
    task: tokio::task::JoinHandle<()>,
    /// Ends the streaming pull: flushes pending acks, nacks the rest.
    shutdown: ShutdownToken,
    /// Our ack id → the handler and when it was handed out.
    leased: HashMap<String, (Handler, Instant)>,
    /// How long a lease lasts (the subscription's ack deadline).
    lease: Duration,
    /// Dead letters read so far (dead-letter streams only).
    dead: Vec<Delivery>,
}

impl Drop for SubStream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Pub/Sub as the event bus.
pub struct PubSubEventBus {
    project: String,
    topics: TopicAdmin,
    subscriptions: SubscriptionAdmin,
    base_publisher: BasePublisher,
    subscriber: Subscriber,
    publishers: Mutex<HashMap<String, Publisher>>,
    streams: Arc<Mutex<HashMap<String, SubStream>>>,
}

impl std::fmt::Debug for PubSubEventBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PubSubEventBus")
            .field("project", &self.project)
            .finish_non_exhaustive()
    }
}

fn other(e: impl std::fmt::Display) -> EventBusError {
    EventBusError::Other(e.to_string())
}

fn code(e: &google_cloud_pubsub::Error) -> Option<Code> {
    e.status().map(|s| s.code)
}

fn map_error(e: google_cloud_pubsub::Error) -> EventBusError {
    map_error_ref(&e)
}

fn map_error_ref(e: &google_cloud_pubsub::Error) -> EventBusError {
    let transient = e.is_timeout()
        || e.is_io()
        || e.is_transport()
        || matches!(
            code(e),
            Some(
                Code::Unavailable
                    | Code::Aborted
                    | Code::ResourceExhausted
                    | Code::DeadlineExceeded
                    | Code::Internal
            )
        );
    if transient {
        EventBusError::Transient(e.to_string())
    } else {
        EventBusError::Other(e.to_string())
    }
}

impl PubSubEventBus {
    /// Connects to Pub/Sub for `project_id`: to the emulator at
    /// `PUBSUB_EMULATOR_HOST` when that is set, else to the service with the
    /// application default credentials.
    pub async fn connect(project_id: &str) -> Result<Self, EventBusError> {
        let emulator = std::env::var("PUBSUB_EMULATOR_HOST")
            .ok()
            .filter(|h| !h.is_empty());
        Self::connect_to(project_id, emulator.as_deref()).await
    }

    /// Connects to the emulator at `emulator_host` (`host:port`) when given,
    /// else to the service.
    pub async fn connect_to(
        project_id: &str,
        emulator_host: Option<&str>,
    ) -> Result<Self, EventBusError> {
        macro_rules! configure {
            ($builder:expr) => {{
                let builder = $builder;
                match emulator_host {
                    Some(host) => builder
                        .with_endpoint(format!("http://{host}"))
                        .with_credentials(Anonymous::new().build()),
                    None => builder,
                }
            }};
        }
        let topics = configure!(TopicAdmin::builder())
            .build()
            .await
            .map_err(other)?;
        let subscriptions = configure!(SubscriptionAdmin::builder())
            .build()
            .await
            .map_err(other)?;
        let base_publisher = configure!(BasePublisher::builder())
            .build()
            .await
            .map_err(other)?;
        let subscriber = configure!(Subscriber::builder())
            .build()
            .await
            .map_err(other)?;
        Ok(Self {
            project: project_id.to_string(),
            topics,
            subscriptions,
            base_publisher,
            subscriber,
            publishers: Mutex::new(HashMap::new()),
            streams: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    /// Checks the service answers for the project (a topic lookup: a
    /// missing topic is an answer too), so a wrong endpoint or missing
    /// credentials fail before any work starts.
    pub async fn probe(&self) -> Result<(), EventBusError> {
        let probe = self.topic_path("propcast-reachability-probe");
        let lookup = self.topics.get_topic().set_topic(probe).send();
        match tokio::time::timeout(Duration::from_secs(20), lookup).await {
            Err(_) => Err(EventBusError::Transient(format!(
                "Pub/Sub for project {} did not answer within 20 s",
                self.project
            ))),
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) if code(&e) == Some(Code::NotFound) => Ok(()),
            Ok(Err(e)) => Err(map_error(e)),
        }
    }

    fn topic_path(&self, topic: &str) -> String {
        format!("projects/{}/topics/{topic}", self.project)
    }

    fn subscription_path(&self, subscription: &str) -> String {
        format!("projects/{}/subscriptions/{subscription}", self.project)
    }

    async fn create_topic_path(&self, path: String) -> Result<(), EventBusError> {
        match self.topics.create_topic().set_name(path).send().await {
            Ok(_) => Ok(()),
            Err(e) if code(&e) == Some(Code::AlreadyExists) => Ok(()),
            Err(e) => Err(map_error(e)),
        }
    }

    /// Creates `subscription` on `topic` as [`EventBus::create_subscription`]
    /// does, pushing to `push` when given (Pub/Sub POSTs each message to the
    /// endpoint with an OIDC token for the service account and audience).
    async fn create_subscription_with(
        &self,
        topic: &str,
        subscription: &str,
        ack_deadline: Duration,
        max_attempts: u32,
        push: Option<&PushTarget>,
    ) -> Result<(), EventBusError> {
        if !MAX_ATTEMPTS_RANGE.contains(&max_attempts) {
            return Err(EventBusError::Other(format!(
                "subscription {subscription}: Pub/Sub dead-letter policies take 5..=100 delivery attempts, not {max_attempts}"
            )));
        }
        let topic_path = self.topic_path(topic);
        match self
            .topics
            .get_topic()
            .set_topic(topic_path.clone())
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if code(&e) == Some(Code::NotFound) => {
                return Err(EventBusError::UnknownTopic(topic.to_string()));
            }
            Err(e) => return Err(map_error(e)),
        }
        let dead_name = format!("{subscription}{DEAD_LETTER_SUFFIX}");
        let dead_topic = self.topic_path(&dead_name);
        self.create_topic_path(dead_topic.clone()).await?;
        let deadline_secs = ack_deadline.as_secs().clamp(10, 600) as i32;
        let created = self
            .subscriptions
            .create_subscription()
            .set_name(self.subscription_path(&dead_name))
            .set_topic(dead_topic.clone())
            .set_ack_deadline_seconds(deadline_secs)
            .send()
            .await;
        match created {
            Ok(_) => {}
            Err(e) if code(&e) == Some(Code::AlreadyExists) => {}
            Err(e) => return Err(map_error(e)),
        }
        let created = self
            .subscriptions
            .create_subscription()
            .set_name(self.subscription_path(subscription))
            .set_topic(topic_path)
            .set_ack_deadline_seconds(deadline_secs)
            .set_dead_letter_policy(
                DeadLetterPolicy::new()
                    .set_dead_letter_topic(dead_topic)
                    .set_max_delivery_attempts(max_attempts as i32),
            )
            .set_or_clear_push_config(push.map(|p| {
                PushConfig::new()
                    .set_push_endpoint(p.endpoint.clone())
                    .set_oidc_token(
                        OidcToken::new()
                            .set_service_account_email(p.service_account.clone())
                            .set_audience(p.audience.clone()),
                    )
            }))
            .send()
            .await;
        match created {
            Ok(_) => Ok(()),
            Err(e) if code(&e) == Some(Code::AlreadyExists) => Ok(()),
            Err(e) if code(&e) == Some(Code::NotFound) => {
                Err(EventBusError::UnknownTopic(topic.to_string()))
            }
            Err(e) => Err(map_error(e)),
        }
    }

    /// A push subscription (idempotent): what `deploy/pubsub` creates in
    /// production, and tests on the emulator.
    pub async fn create_push_subscription(
        &self,
        topic: &str,
        subscription: &str,
        push: &PushTarget,
        ack_deadline: Duration,
        max_attempts: u32,
    ) -> Result<(), EventBusError> {
        self.create_subscription_with(topic, subscription, ack_deadline, max_attempts, Some(push))
            .await
    }

    /// Starts the stream of `subscription` unless it runs; returns whether
    /// it was started now.
    async fn ensure_stream(
        &self,
        subscription: &str,
        lease: Option<Duration>,
    ) -> Result<bool, EventBusError> {
        if self
            .streams
            .lock()
            .expect("streams lock")
            .contains_key(subscription)
        {
            return Ok(false);
        }
        let path = self.subscription_path(subscription);
        let sub = match self
            .subscriptions
            .get_subscription()
            .set_subscription(path.clone())
            .send()
            .await
        {
            Ok(sub) => sub,
            Err(e) if code(&e) == Some(Code::NotFound) => {
                return Err(EventBusError::UnknownSubscription(subscription.to_string()));
            }
            Err(e) => return Err(map_error(e)),
        };
        let deadline = Duration::from_secs(sub.ack_deadline_seconds.clamp(10, 600) as u64);
        let lease = lease.unwrap_or(deadline);
        let mut stream = self
            .subscriber
            .subscribe(path)
            .set_max_lease(lease)
            .set_max_lease_extension(deadline)
            .set_shutdown_behavior(ShutdownBehavior::NackImmediately)
            .build();
        let shutdown = stream.shutdown_token();
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            while let Some(item) = stream.next().await {
                let failed = item.is_err();
                if tx.send(item).is_err() || failed {
                    break;
                }
            }
        });
        let mut streams = self.streams.lock().expect("streams lock");
        if streams.contains_key(subscription) {
            // Another caller started it meanwhile; this one is dropped
            // (its task aborted).
            drop(SubStream {
                rx,
                task,
                shutdown,
                leased: HashMap::new(),
                lease,
                dead: Vec::new(),
            });
            return Ok(false);
        }
        streams.insert(
            subscription.to_string(),
            SubStream {
                rx,
                task,
                shutdown,
                leased: HashMap::new(),
                lease,
                dead: Vec::new(),
            },
        );
        Ok(true)
    }

    /// Takes up to `max` received messages off the stream of `subscription`,
    /// waiting up to `wait` for the first one.
    async fn take(
        &self,
        subscription: &str,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<(Message, Handler)>, EventBusError> {
        let start = Instant::now();
        let mut got = Vec::new();
        loop {
            {
                let mut streams = self.streams.lock().expect("streams lock");
                let Some(stream) = streams.get_mut(subscription) else {
                    return Ok(got);
                };
                while got.len() < max {
                    match stream.rx.try_recv() {
                        Ok(Ok(item)) => got.push(item),
                        Ok(Err(e)) => {
                            // The stream ended with an error: drop it, the
                            // next pull starts a new one.
                            streams.remove(subscription);
                            return Err(map_error(e));
                        }
                        Err(mpsc::error::TryRecvError::Empty) => break,
                        Err(mpsc::error::TryRecvError::Disconnected) => {
                            streams.remove(subscription);
                            break;
                        }
                    }
                }
            }
            if !got.is_empty() || start.elapsed() >= wait {
                return Ok(got);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The id `publish` returned, and the attributes without ours and
/// Pub/Sub's dead-letter ones.
fn split_attributes(message: &Message) -> (String, BTreeMap<String, String>, Option<u32>) {
    let mut id = message.message_id.clone();
    let mut count = None;
    let mut attributes = BTreeMap::new();
    for (k, v) in &message.attributes {
        if k == MESSAGE_ID_ATTRIBUTE {
            id = v.clone();
        } else if k == DEAD_LETTER_COUNT_ATTRIBUTE {
            count = v.parse().ok();
        } else if !k.starts_with(DEAD_LETTER_ATTRIBUTE_PREFIX) {
            attributes.insert(k.clone(), v.clone());
        }
    }
    (id, attributes, count)
}

#[async_trait]
impl EventBus for PubSubEventBus {
    async fn create_topic(&self, topic: &str) -> Result<(), EventBusError> {
        self.create_topic_path(self.topic_path(topic)).await
    }

    async fn create_subscription(
        &self,
        topic: &str,
        subscription: &str,
        ack_deadline: Duration,
        max_attempts: u32,
    ) -> Result<(), EventBusError> {
        self.create_subscription_with(topic, subscription, ack_deadline, max_attempts, None)
            .await
    }

    async fn publish(
        &self,
        topic: &str,
        data: Bytes,
        attributes: BTreeMap<String, String>,
    ) -> Result<String, EventBusError> {
        let publisher = {
            let mut publishers = self.publishers.lock().expect("publishers lock");
            publishers
                .entry(topic.to_string())
                .or_insert_with(|| {
                    self.base_publisher
                        .publisher(self.topic_path(topic))
                        .build()
                })
                .clone()
        };
        let id = uuid::Uuid::new_v4().to_string();
        let mut attributes = crate::bus::outgoing_attributes(attributes);
        attributes.insert(MESSAGE_ID_ATTRIBUTE.to_string(), id.clone());
        let sent = publisher
            .publish(Message::new().set_data(data).set_attributes(attributes))
            .await;
        match sent {
            Ok(_) => Ok(id),
            Err(PublishError::Rpc(e)) if code(&e) == Some(Code::NotFound) => {
                Err(EventBusError::UnknownTopic(topic.to_string()))
            }
            Err(PublishError::Rpc(e)) => Err(map_error_ref(&e)),
            Err(e) => Err(EventBusError::Transient(e.to_string())),
        }
    }

    async fn pull(&self, subscription: &str, max: usize) -> Result<Vec<Delivery>, EventBusError> {
        let started = self.ensure_stream(subscription, None).await?;
        let wait = if started {
            FIRST_PULL_WAIT
        } else {
            Duration::ZERO
        };
        let got = self.take(subscription, max, wait).await?;
        let mut streams = self.streams.lock().expect("streams lock");
        let Some(stream) = streams.get_mut(subscription) else {
            // The stream ended; its messages will be delivered again.
            return Ok(Vec::new());
        };
        // Forget handlers whose lease has run out (Pub/Sub redelivers them).
        let lease = stream.lease;
        stream
            .leased
            .retain(|_, (_, at)| at.elapsed() < lease + Duration::from_secs(60));
        let mut out = Vec::with_capacity(got.len());
        for (message, handler) in got {
            let (message_id, attributes, _) = split_attributes(&message);
            let attempt = handler
                .delivery_attempt()
                .and_then(|a| u32::try_from(a).ok())
                .unwrap_or(1);
            let ack_id = uuid::Uuid::new_v4().to_string();
            stream
                .leased
                .insert(ack_id.clone(), (handler, Instant::now()));
            out.push(Delivery {
                ack_id,
                message_id,
                data: message.data,
                attributes,
                attempt,
            });
        }
        Ok(out)
    }

    async fn ack(&self, subscription: &str, ack_ids: &[String]) -> Result<(), EventBusError> {
        let mut streams = self.streams.lock().expect("streams lock");
        if let Some(stream) = streams.get_mut(subscription) {
            for id in ack_ids {
                if let Some((handler, _)) = stream.leased.remove(id) {
                    handler.ack();
                }
            }
        }
        Ok(())
    }

    async fn nack(&self, subscription: &str, ack_ids: &[String]) -> Result<(), EventBusError> {
        let mut streams = self.streams.lock().expect("streams lock");
        if let Some(stream) = streams.get_mut(subscription) {
            for id in ack_ids {
                if let Some((handler, _)) = stream.leased.remove(id) {
                    handler.nack();
                }
            }
        }
        Ok(())
    }

    /// Ends every streaming pull this handle started: the acks given so
    /// far are sent, every message received and not acked is nacked (so
    /// the next process to pull gets it at once instead of after its
    /// lease). Without it, a process that exits leaves its acks unsent
    /// and its leases held until the ack deadline runs out.
    async fn close(&self) -> Result<(), EventBusError> {
        let streams: Vec<(String, SubStream)> =
            self.streams.lock().expect("streams lock").drain().collect();
        for (name, mut stream) in streams {
            for (_, (handler, _)) in stream.leased.drain() {
                handler.nack();
            }
            // Messages the stream received but nobody pulled.
            while let Ok(item) = stream.rx.try_recv() {
                if let Ok((_, handler)) = item {
                    handler.nack();
                }
            }
            if tokio::time::timeout(CLOSE_WAIT, stream.shutdown.shutdown())
                .await
                .is_err()
            {
                tracing::warn!(subscription = %name, "Pub/Sub stream did not shut down within {CLOSE_WAIT:?}");
            }
        }
        Ok(())
    }

    async fn dead_letters(&self, subscription: &str) -> Result<Vec<Delivery>, EventBusError> {
        let dead_name = format!("{subscription}{DEAD_LETTER_SUFFIX}");
        let started = match self
            .ensure_stream(&dead_name, Some(DEAD_LETTER_LEASE))
            .await
        {
            Err(EventBusError::UnknownSubscription(_)) => {
                return Err(EventBusError::UnknownSubscription(subscription.to_string()));
            }
            other => other?,
        };
        let wait = if started {
            FIRST_PULL_WAIT
        } else {
            Duration::ZERO
        };
        let got = self.take(&dead_name, usize::MAX, wait).await?;
        let mut streams = self.streams.lock().expect("streams lock");
        let Some(stream) = streams.get_mut(&dead_name) else {
            return Ok(Vec::new());
        };
        for (message, handler) in got {
            let (message_id, attributes, count) = split_attributes(&message);
            if stream.dead.iter().any(|d| d.message_id == message_id) {
                // Sent again after its lease: already listed; keep the new lease.
                stream
                    .leased
                    .insert(format!("dead:{message_id}"), (handler, Instant::now()));
                continue;
            }
            let ack_id = format!("dead:{message_id}");
            stream
                .leased
                .insert(ack_id.clone(), (handler, Instant::now()));
            stream.dead.push(Delivery {
                ack_id,
                message_id,
                data: message.data,
                attributes,
                attempt: count.unwrap_or(0),
            });
        }
        Ok(stream.dead.clone())
    }
}
