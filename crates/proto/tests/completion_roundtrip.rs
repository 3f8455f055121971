//! The completion event survives the bus byte encoding field for field.

use propcast_proto::v1::{CompletionStatus, ProcessorCompletion};

fn sample() -> ProcessorCompletion {
    let mut completion = ProcessorCompletion {
        processor: "player_game_summary".to_owned(),
        phase: 3,
        game_date: "2025-01-15".to_owned(),
        record_count: 243,
        records_failed: 2,
        duration_seconds: 12.75,
        correlation_id: "corr-8f2c".to_owned(),
        execution_id: "0b8e7c1e-5d7a-4c1b-9a55-3f0e2d9c7a10".to_owned(),
        entities_changed: vec!["lebronjames".to_owned(), "stephencurry".to_owned()],
        is_incremental: true,
        error_message: String::new(),
        output_tables: vec!["nba_analytics.player_game_summary".to_owned()],
        mode: "overnight".to_owned(),
        trigger_source: "pubsub".to_owned(),
        ..Default::default()
    };
    completion.set_status(CompletionStatus::Partial);
    completion
}

#[test]
fn completion_round_trips_through_bytes() {
    let original = sample();
    let bytes = original.encode_to_bytes();
    assert!(!bytes.is_empty());

    let decoded = ProcessorCompletion::decode_from(bytes).expect("decode");
    assert_eq!(decoded, original);
    assert_eq!(decoded.status(), CompletionStatus::Partial);
    assert_eq!(decoded.status().as_str(), "partial");
    assert_eq!(decoded.entities_changed, ["lebronjames", "stephencurry"]);
    assert_eq!(decoded.duration_seconds, 12.75);
}

#[test]
fn status_string_sets_the_wire_value() {
    let mut completion = sample();
    completion.set_status("no_data".parse().expect("known status"));
    let decoded = ProcessorCompletion::decode_from(completion.encode_to_bytes()).expect("decode");
    assert_eq!(decoded.status(), CompletionStatus::NoData);
}

#[test]
fn truncated_payload_is_an_error() {
    let bytes = sample().encode_to_bytes();
    let truncated = bytes.slice(..bytes.len() - 3);
    assert!(ProcessorCompletion::decode_from(truncated).is_err());
}
