//! Phase-transition orchestrators (2→3, 3→4, 4→5).
//!
//! Every processor run publishes a [`ProcessorCompletion`]; the
//! [`Orchestrator`] records each in the per-(transition, date, mode, round)
//! state document inside a state-store transaction and fires the downstream
//! phase exactly once per date, mode and round, only after its trigger
//! message ([`PhaseTrigger`], the contract's protobuf message) was published
//! (invariant 4, "fires once"). See `README.md` in this crate.
//!
//! [`ProcessorCompletion`]: propcast_proto::v1::ProcessorCompletion

pub mod clock;
pub mod document;
pub mod mode;
mod orchestrator;
pub mod service;
pub mod transition;
pub mod trigger;

pub use clock::{Clock, ManualClock, SystemClock};
pub use document::{CompletionDoc, ProcessorEntry};
pub use mode::{Mode, UnknownMode};
pub use orchestrator::{
    BadCompletion, DEFAULT_CLAIM_TIMEOUT, DocKey, Fired, Orchestrator, OrchestratorError, Outcome,
    TimeoutSweep, TriggerState,
};
pub use service::{
    COMPLETIONS_TOPIC, Drained, ORCHESTRATOR_SUBSCRIPTION, ServeOptions, ServeReport, serve,
};
pub use transition::{
    ConfigError, TieredTimeouts, TimeoutTier, Transition, TransitionConfig, TriggerReason,
};
pub use trigger::{BadTrigger, Trigger};
/// The trigger message: the contract's `propcast.v1.PhaseTrigger`.
pub use trigger::{PhaseTrigger, TriggerUpstream};
