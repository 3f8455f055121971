//! The OTLP exporter (gRPC, e.g. an OpenTelemetry Collector or Jaeger on
//! port 4317) and the `tracing` layer that feeds it. Off unless an endpoint
//! is configured: without one no exporter, no layer, and the spans are
//! disabled where they are created.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::{Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::registry::LookupSpan;

/// The standard variable naming the collector (`http://HOST:4317`).
pub const ENDPOINT_ENV: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// The traces-only variable, which wins over [`ENDPOINT_ENV`].
pub const TRACES_ENDPOINT_ENV: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";

/// The endpoint the standard environment names, if any (an empty value is
/// none).
pub fn endpoint_from_env() -> Option<String> {
    [TRACES_ENDPOINT_ENV, ENDPOINT_ENV]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .map(|v| v.trim().to_string())
        .find(|v| !v.is_empty())
}

#[derive(Debug, thiserror::Error)]
#[error("OTLP trace exporter for {endpoint}: {reason}")]
pub struct ExporterError {
    pub endpoint: String,
    pub reason: String,
}

/// The tracer provider exporting to one endpoint in batches, on a thread
/// of its own. [`Exporter::shutdown`] flushes what is still queued; call it
/// before the process exits, while the Tokio runtime still runs.
#[derive(Debug, Clone)]
pub struct Exporter {
    provider: SdkTracerProvider,
}

impl Exporter {
    /// Starts exporting to `endpoint` (`http://HOST:PORT`) as service
    /// `service_name` (`OTEL_SERVICE_NAME` wins when set). Must be called
    /// inside a Tokio runtime, which must outlive the exporter: the gRPC
    /// channel runs on it. Nothing connects before the first export, so an
    /// unreachable collector costs failed exports, never the run.
    pub fn start(endpoint: &str, service_name: &str) -> Result<Self, ExporterError> {
        let exporter = SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .build()
            .map_err(|e| ExporterError {
                endpoint: endpoint.to_string(),
                reason: e.to_string(),
            })?;
        let name = std::env::var("OTEL_SERVICE_NAME")
            .ok()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| service_name.to_string());
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(Resource::builder().with_service_name(name).build())
            .build();
        Ok(Exporter { provider })
    }

    /// The layer turning the pipeline's spans (target
    /// [`crate::TARGET`]) into exported spans, with the warnings and errors
    /// logged inside them as span events; nothing else of the process.
    pub fn layer<S>(&self) -> impl Layer<S> + use<S>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let filter = Targets::new()
            .with_target(crate::TARGET, Level::INFO)
            .with_target("propcast", Level::WARN);
        tracing_opentelemetry::layer()
            .with_tracer(self.provider.tracer("propcast"))
            .with_filter(filter)
    }

    /// Exports everything ended so far, waiting for it.
    pub fn flush(&self) -> Result<(), ExporterError> {
        self.provider.force_flush().map_err(|e| ExporterError {
            endpoint: String::new(),
            reason: e.to_string(),
        })
    }

    /// Flushes and stops the exporter.
    pub fn shutdown(&self) -> Result<(), ExporterError> {
        self.provider.shutdown().map_err(|e| ExporterError {
            endpoint: String::new(),
            reason: e.to_string(),
        })
    }
}
