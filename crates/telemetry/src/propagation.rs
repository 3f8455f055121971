//! W3C trace context into and out of message attributes and gRPC metadata.
//!
//! Injection writes the context of the current span; extraction makes the
//! sender's span the parent of a new span that has not been entered yet.
//! Both are no-ops when no OpenTelemetry layer is installed (the span
//! context is invalid or the span disabled), and a message without a
//! `traceparent`, or with a malformed one, simply starts a new trace.

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use std::collections::BTreeMap;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The W3C trace-context attribute (`00-{trace id}-{span id}-{flags}`).
pub const TRACEPARENT: &str = "traceparent";
/// Its vendor companion, carried when present.
pub const TRACESTATE: &str = "tracestate";

struct Attributes<'a>(&'a mut BTreeMap<String, String>);

impl Injector for Attributes<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key.to_string(), value);
    }
}

struct ReadAttributes<'a>(&'a BTreeMap<String, String>);

impl Extractor for ReadAttributes<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

/// The OpenTelemetry context of the current span, when it is a recorded
/// (exported) span.
fn current() -> Option<opentelemetry::Context> {
    let span = tracing::Span::current();
    if span.is_disabled() {
        return None;
    }
    let cx = span.context();
    cx.span().span_context().is_valid().then_some(cx)
}

/// Writes the current span's trace context into `attributes` (replacing
/// one already there); writes nothing when there is no recorded span.
pub fn inject_attributes(attributes: &mut BTreeMap<String, String>) {
    if let Some(cx) = current() {
        TraceContextPropagator::new().inject_context(&cx, &mut Attributes(attributes));
    }
}

/// Makes the span whose context `attributes` carry the parent of `span`
/// (which must not have been entered yet). Without a valid `traceparent`
/// `span` stays where it was created.
pub fn set_parent_from_attributes(span: &tracing::Span, attributes: &BTreeMap<String, String>) {
    if span.is_disabled() || !attributes.contains_key(TRACEPARENT) {
        return;
    }
    set_parent(span, &ReadAttributes(attributes));
}

/// Links `span` to the span whose context `attributes` carry: for a span
/// that handles many messages at once and can have one parent only.
pub fn add_link_from_attributes(span: &tracing::Span, attributes: &BTreeMap<String, String>) {
    if span.is_disabled() || !attributes.contains_key(TRACEPARENT) {
        return;
    }
    let cx = TraceContextPropagator::new().extract(&ReadAttributes(attributes));
    span.add_link(cx.span().span_context().clone());
}

fn set_parent(span: &tracing::Span, carrier: &dyn Extractor) {
    let cx = TraceContextPropagator::new().extract(carrier);
    if cx.span().span_context().is_valid() {
        // Fails only for a span already started or without the layer,
        // where there is nothing to link.
        let _ = span.set_parent(cx);
    }
}

#[cfg(feature = "grpc")]
mod grpc {
    use super::*;
    use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};

    struct Metadata<'a>(&'a mut MetadataMap);

    impl Injector for Metadata<'_> {
        fn set(&mut self, key: &str, value: String) {
            if let (Ok(key), Ok(value)) = (
                MetadataKey::from_bytes(key.as_bytes()),
                MetadataValue::try_from(value),
            ) {
                self.0.insert(key, value);
            }
        }
    }

    struct ReadMetadata<'a>(&'a MetadataMap);

    impl Extractor for ReadMetadata<'_> {
        fn get(&self, key: &str) -> Option<&str> {
            self.0.get(key).and_then(|v| v.to_str().ok())
        }

        fn keys(&self) -> Vec<&str> {
            self.0
                .keys()
                .filter_map(|k| match k {
                    tonic::metadata::KeyRef::Ascii(k) => Some(k.as_str()),
                    tonic::metadata::KeyRef::Binary(_) => None,
                })
                .collect()
        }
    }

    /// Writes the current span's trace context into gRPC request metadata.
    pub fn inject_metadata(metadata: &mut MetadataMap) {
        if let Some(cx) = current() {
            TraceContextPropagator::new().inject_context(&cx, &mut Metadata(metadata));
        }
    }

    /// The client interceptor: every request carries the context of the
    /// span it is sent from.
    pub fn trace_context_interceptor(
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        inject_metadata(request.metadata_mut());
        Ok(request)
    }

    /// Makes the caller's span (from the request metadata) the parent of
    /// `span` on the server side.
    pub fn set_parent_from_metadata(span: &tracing::Span, metadata: &MetadataMap) {
        if span.is_disabled() || !metadata.contains_key(TRACEPARENT) {
            return;
        }
        set_parent(span, &ReadMetadata(metadata));
    }
}

#[cfg(feature = "grpc")]
pub use grpc::{inject_metadata, set_parent_from_metadata, trace_context_interceptor};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_recorded_span_nothing_is_written() {
        let mut attributes = BTreeMap::from([("k".to_string(), "v".to_string())]);
        inject_attributes(&mut attributes);
        assert_eq!(attributes.len(), 1, "{attributes:?}");
    }

    #[test]
    fn a_traceparent_reads_back_as_the_same_context() {
        let carrier = BTreeMap::from([(
            TRACEPARENT.to_string(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_string(),
        )]);
        let cx = TraceContextPropagator::new().extract(&ReadAttributes(&carrier));
        let span = cx.span();
        let sc = span.span_context();
        assert!(sc.is_valid() && sc.is_remote());
        assert_eq!(
            sc.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(sc.span_id().to_string(), "00f067aa0ba902b7");
        let mut out = BTreeMap::new();
        TraceContextPropagator::new().inject_context(&cx, &mut Attributes(&mut out));
        assert_eq!(out[TRACEPARENT], carrier[TRACEPARENT]);
    }
}
