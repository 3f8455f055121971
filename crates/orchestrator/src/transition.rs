//! The three phase transitions, their per-mode processor sets, the trigger
//! rule and the 4→5 tiered timeouts. Everything here is pure.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use propcast_core::Phase;
use propcast_proto::v1::CompletionStatus;

use crate::mode::Mode;

/// A phase transition: completions of phase N decide when phase N+1 starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Transition {
    Phase2To3,
    Phase3To4,
    Phase4To5,
}

impl Transition {
    pub const ALL: [Transition; 3] = [
        Transition::Phase2To3,
        Transition::Phase3To4,
        Transition::Phase4To5,
    ];

    /// The transition fed by completions of `phase` (raw, analytics or
    /// precompute; predictions feed none).
    pub fn from_upstream_phase(phase: Phase) -> Option<Transition> {
        Transition::ALL
            .into_iter()
            .find(|t| t.upstream_phase() == phase)
    }

    /// The transition whose triggers are published on `topic`.
    pub fn from_trigger_topic(topic: &str) -> Option<Transition> {
        Transition::ALL
            .into_iter()
            .find(|t| t.trigger_topic() == topic)
    }

    /// The phase whose completions this transition reads.
    pub fn upstream_phase(self) -> Phase {
        match self {
            Transition::Phase2To3 => Phase::Raw,
            Transition::Phase3To4 => Phase::Analytics,
            Transition::Phase4To5 => Phase::Precompute,
        }
    }

    /// The phase this transition starts.
    pub fn downstream_phase(self) -> Phase {
        match self {
            Transition::Phase2To3 => Phase::Analytics,
            Transition::Phase3To4 => Phase::Precompute,
            Transition::Phase4To5 => Phase::Predictions,
        }
    }

    /// `phase3_to_phase4` etc.
    pub fn as_str(self) -> &'static str {
        match self {
            Transition::Phase2To3 => "phase2_to_phase3",
            Transition::Phase3To4 => "phase3_to_phase4",
            Transition::Phase4To5 => "phase4_to_phase5",
        }
    }

    /// State-store collection of the per-date completion documents, named
    /// after the phase being completed (as in the reference system):
    /// `phase2_completion`, `phase3_completion`, `phase4_completion`.
    pub fn collection(self) -> &'static str {
        match self {
            Transition::Phase2To3 => "phase2_completion",
            Transition::Phase3To4 => "phase3_completion",
            Transition::Phase4To5 => "phase4_completion",
        }
    }

    /// Event-bus topic the downstream trigger is published on:
    /// `phase3-trigger`, `phase4-trigger`, `phase5-trigger`.
    pub fn trigger_topic(self) -> &'static str {
        match self {
            Transition::Phase2To3 => "phase3-trigger",
            Transition::Phase3To4 => "phase4-trigger",
            Transition::Phase4To5 => "phase5-trigger",
        }
    }

    /// The built-in processor sets of this transition in `mode`
    /// (trigger share 60 %; tiered timeouts on 4→5).
    pub fn default_config(self, mode: Mode) -> TransitionConfig {
        use Mode::*;
        let (expected, critical, optional): (&[&str], &[&str], &[&str]) = match (self, mode) {
            // A past date (overnight) and a backfill wait for the same set,
            // so a backfill equals the daily runs (invariant 3). Only the
            // schedule is critical: without games there is nothing to do,
            // but a date whose box scores are missing (the landing zone has
            // none for the 2024-25 playoffs) still gets its pre-game
            // contexts, features and predictions, and its summaries and
            // grading when a later round brings the box scores. The
            // stats scoreboard, the per-game box scores and the injury
            // reports are optional too: most dates have none ("no data"
            // counts for an optional processor).
            (Transition::Phase2To3, Overnight | Backfill) => (
                &[
                    "schedule",
                    "scoreboard",
                    "player_boxscores",
                    "boxscore_traditional",
                    "team_boxscores",
                    "injury_report",
                    "player_props",
                ],
                &["schedule"],
                &[
                    "scoreboard",
                    "player_boxscores",
                    "boxscore_traditional",
                    "team_boxscores",
                    "injury_report",
                    "player_props",
                ],
            ),
            // Before the games there are no box scores; the upcoming
            // contexts need the schedule, the props (for lines) and the
            // injury reports (who is out).
            (Transition::Phase2To3, SameDay | Tomorrow) => (
                &["schedule", "injury_report", "player_props"],
                &["schedule"],
                &["injury_report", "player_props"],
            ),
            // REFERENCE §5.2: overnight expects all five. Only the player
            // context is critical (unlike the reference, which also needed
            // the player summary): phase 4 of D reads D's contexts and
            // summaries of dates before D only (invariant 1), so D's own
            // summaries — missing when D's box scores have not landed — must
            // not hold up D's features and predictions.
            (Transition::Phase3To4, Overnight | Backfill) => (
                &[
                    "team_offense_game_summary",
                    "team_defense_game_summary",
                    "player_game_summary",
                    "upcoming_team_game_context",
                    "upcoming_player_game_context",
                ],
                &["upcoming_player_game_context"],
                &[
                    "team_offense_game_summary",
                    "team_defense_game_summary",
                    "player_game_summary",
                    "upcoming_team_game_context",
                ],
            ),
            // REFERENCE §5.2: same_day/tomorrow expect the player context only.
            (Transition::Phase3To4, SameDay | Tomorrow) => (
                &["upcoming_player_game_context"],
                &["upcoming_player_game_context"],
                &["upcoming_team_game_context"],
            ),
            // Phase 5 reads the factors, the daily cache (player selection)
            // and the feature vectors; zone features are nullable.
            (Transition::Phase4To5, _) => (
                &[
                    "team_defense_zone_analysis",
                    "player_shot_zone_analysis",
                    "player_composite_factors",
                    "player_daily_cache",
                    "ml_feature_store",
                ],
                &[
                    "player_composite_factors",
                    "player_daily_cache",
                    "ml_feature_store",
                ],
                &["team_defense_zone_analysis", "player_shot_zone_analysis"],
            ),
        };
        let timeouts = (self == Transition::Phase4To5).then(TieredTimeouts::reference);
        TransitionConfig::new(expected, critical, optional, 60, timeouts)
            .expect("built-in transition config is valid")
    }
}

impl fmt::Display for Transition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A processor set that breaks the rules of [`TransitionConfig::new`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid transition config: {0}")]
pub struct ConfigError(pub String);

/// Which processors a transition waits for in one mode, and when it fires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitionConfig {
    expected: Vec<String>,
    critical: Vec<String>,
    optional: Vec<String>,
    min_share_percent: u32,
    timeouts: Option<TieredTimeouts>,
}

impl TransitionConfig {
    /// Validates: critical and optional are disjoint and not both empty,
    /// every critical processor is expected, every expected one is critical
    /// or optional, and the share is 1–100 %.
    pub fn new(
        expected: &[&str],
        critical: &[&str],
        optional: &[&str],
        min_share_percent: u32,
        timeouts: Option<TieredTimeouts>,
    ) -> Result<Self, ConfigError> {
        let own = |v: &[&str]| -> Vec<String> {
            let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
            v.sort();
            v.dedup();
            v
        };
        let (expected, critical, optional) = (own(expected), own(critical), own(optional));
        if critical.is_empty() && optional.is_empty() {
            return Err(ConfigError("no critical or optional processor".into()));
        }
        if let Some(p) = critical.iter().find(|p| optional.contains(p)) {
            return Err(ConfigError(format!("{p} is both critical and optional")));
        }
        if let Some(p) = critical.iter().find(|p| !expected.contains(p)) {
            return Err(ConfigError(format!("critical {p} is not expected")));
        }
        if let Some(p) = expected
            .iter()
            .find(|p| !critical.contains(p) && !optional.contains(p))
        {
            return Err(ConfigError(format!(
                "expected {p} is neither critical nor optional"
            )));
        }
        if !(1..=100).contains(&min_share_percent) {
            return Err(ConfigError(format!(
                "share {min_share_percent} % is not within 1–100 %"
            )));
        }
        Ok(Self {
            expected,
            critical,
            optional,
            min_share_percent,
            timeouts,
        })
    }

    /// The same sets with another trigger share.
    pub fn with_min_share_percent(mut self, percent: u32) -> Result<Self, ConfigError> {
        if !(1..=100).contains(&percent) {
            return Err(ConfigError(format!(
                "share {percent} % is not within 1–100 %"
            )));
        }
        self.min_share_percent = percent;
        Ok(self)
    }

    pub fn expected(&self) -> &[String] {
        &self.expected
    }
    pub fn critical(&self) -> &[String] {
        &self.critical
    }
    pub fn optional(&self) -> &[String] {
        &self.optional
    }
    pub fn min_share_percent(&self) -> u32 {
        self.min_share_percent
    }
    pub fn timeouts(&self) -> Option<&TieredTimeouts> {
        self.timeouts.as_ref()
    }

    /// Whether the transition tracks this processor at all.
    pub fn tracks(&self, processor: &str) -> bool {
        self.is_critical(processor) || self.is_optional(processor)
    }
    fn is_critical(&self, processor: &str) -> bool {
        self.critical.iter().any(|p| p == processor)
    }
    fn is_optional(&self, processor: &str) -> bool {
        self.optional.iter().any(|p| p == processor)
    }

    /// Whether a processor with this status counts as done. Only success
    /// and partial count; `no_data` counts for an optional processor (it had
    /// nothing to do for the date, e.g. no shot data this season, and must
    /// not hold the transition up) but not for a critical one (no data there
    /// means the downstream phase has nothing to work on). Skipped, failed
    /// and unspecified never count — except an up-to-date skip, which the
    /// state document hands in as success (see [`Self::counts_run`] and
    /// `ProcessorEntry::effective_status`).
    pub fn counts(&self, processor: &str, status: CompletionStatus) -> bool {
        match status {
            CompletionStatus::Success | CompletionStatus::Partial => self.tracks(processor),
            CompletionStatus::NoData => self.is_optional(processor),
            _ => false,
        }
    }

    /// Whether one run counts as done: [`Self::counts`], where a SKIPPED run
    /// with `up_to_date` (smart skip: its outputs are current for the round)
    /// counts exactly like SUCCESS, for a critical or an optional processor.
    /// Any other skip (circuit open, failed precheck, duplicate) never
    /// counts.
    pub fn counts_run(&self, processor: &str, status: CompletionStatus, up_to_date: bool) -> bool {
        self.counts(
            processor,
            crate::document::effective_status(status, up_to_date),
        )
    }

    /// Number of tracked processors that count as done (`statuses` as the
    /// rule sees them: `CompletionDoc::effective_statuses`).
    pub fn done_count(&self, statuses: &BTreeMap<String, CompletionStatus>) -> usize {
        statuses.iter().filter(|(p, s)| self.counts(p, **s)).count()
    }

    /// The trigger rule: fire when every expected processor is done, or when
    /// every critical one is done and at least the share of critical +
    /// optional is. `None` while neither holds. `statuses` as the rule sees
    /// them (`CompletionDoc::effective_statuses`: an up-to-date skip is a
    /// success).
    pub fn evaluate(&self, statuses: &BTreeMap<String, CompletionStatus>) -> Option<TriggerReason> {
        let done = |p: &String| statuses.get(p).is_some_and(|s| self.counts(p, *s));
        if self.expected.iter().all(done) {
            return Some(TriggerReason::AllExpected);
        }
        if !self.critical.iter().all(done) {
            return None;
        }
        let tracked = self.critical.len() + self.optional.len();
        let done_tracked = self
            .critical
            .iter()
            .chain(&self.optional)
            .filter(|p| done(p))
            .count();
        (done_tracked * 100 >= self.min_share_percent as usize * tracked)
            .then_some(TriggerReason::CriticalAndShare)
    }

    /// The trigger rule, then (when this transition has them) the tiered
    /// timeouts measured from the first completion.
    pub fn evaluate_at(
        &self,
        statuses: &BTreeMap<String, CompletionStatus>,
        first_completion_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Option<TriggerReason> {
        self.evaluate(statuses).or_else(|| {
            let timeouts = self.timeouts.as_ref()?;
            let first = first_completion_at?;
            let done = self
                .expected
                .iter()
                .filter(|p| statuses.get(p.as_str()).is_some_and(|s| self.counts(p, *s)));
            timeouts
                .reached(done.count(), self.expected.len(), first, now)
                .map(TriggerReason::Timeout)
        })
    }
}

/// Why a transition fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggerReason {
    /// Every expected processor is done.
    AllExpected,
    /// Every critical processor is done and at least the configured share of
    /// critical + optional.
    CriticalAndShare,
    /// A 4→5 timeout tier was reached.
    Timeout(TimeoutTier),
}

impl TriggerReason {
    pub fn as_str(self) -> &'static str {
        match self {
            TriggerReason::AllExpected => "all_expected",
            TriggerReason::CriticalAndShare => "critical_and_share",
            TriggerReason::Timeout(TimeoutTier::Tier { .. }) => "timeout_tier",
            TriggerReason::Timeout(TimeoutTier::HardMax) => "timeout_hard_max",
        }
    }
}

impl fmt::Display for TriggerReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TriggerReason::Timeout(TimeoutTier::Tier { min_done, after }) => write!(
                f,
                "timeout_tier: >= {min_done} done after {} min",
                after.as_secs() / 60
            ),
            other => f.write_str(other.as_str()),
        }
    }
}

/// A reached timeout tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutTier {
    /// At least `min_done` expected processors done, `after` since the first
    /// completion.
    Tier { min_done: usize, after: Duration },
    /// The hard maximum: fire with whatever is there.
    HardMax,
}

/// 4→5 tiered timeouts (REFERENCE §5.2), measured from the first completion
/// recorded for the date: all expected fire at once (the normal rule; the
/// 30-minute tier is when all five are expected by, so it never waits);
/// after 1 h four suffice, after 2 h three, and at the hard maximum of 4 h
/// the transition fires with whatever completed, so that a date never waits
/// silently forever (phase 5 then reports what is missing). A tier is
/// reached at its boundary (elapsed ≥ after).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TieredTimeouts {
    /// `(after, min_done)`, in increasing `after`.
    pub tiers: Vec<(Duration, usize)>,
    pub hard_max: Duration,
}

impl TieredTimeouts {
    /// 5 by 30 min, ≥ 4 by 1 h, ≥ 3 by 2 h, hard max 4 h.
    pub fn reference() -> Self {
        const MIN: u64 = 60;
        Self {
            tiers: vec![
                (Duration::from_secs(30 * MIN), 5),
                (Duration::from_secs(60 * MIN), 4),
                (Duration::from_secs(120 * MIN), 3),
            ],
            hard_max: Duration::from_secs(240 * MIN),
        }
    }

    /// The tier reached by `done` of `expected` processors at `now`, or
    /// `None`. Pure; `done >= expected` is left to the normal rule and
    /// reported as the first tier here.
    pub fn reached(
        &self,
        done: usize,
        expected: usize,
        first_completion_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<TimeoutTier> {
        let elapsed = (now - first_completion_at)
            .to_std()
            .unwrap_or(Duration::ZERO);
        if elapsed >= self.hard_max {
            return Some(TimeoutTier::HardMax);
        }
        self.tiers
            .iter()
            .find(|(after, min_done)| done >= *min_done && (done >= expected || elapsed >= *after))
            .map(|(after, min_done)| TimeoutTier::Tier {
                min_done: *min_done,
                after: *after,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CompletionStatus::*;

    fn statuses(items: &[(&str, CompletionStatus)]) -> BTreeMap<String, CompletionStatus> {
        items.iter().map(|(p, s)| (p.to_string(), *s)).collect()
    }

    #[test]
    fn every_builtin_config_is_valid_and_names_real_processors() {
        let phase = |t: Transition| -> &'static [&'static str] {
            match t {
                Transition::Phase2To3 => &[
                    "schedule",
                    "scoreboard",
                    "player_boxscores",
                    "boxscore_traditional",
                    "team_boxscores",
                    "injury_report",
                    "player_props",
                ],
                Transition::Phase3To4 => &[
                    "team_offense_game_summary",
                    "team_defense_game_summary",
                    "player_game_summary",
                    "upcoming_team_game_context",
                    "upcoming_player_game_context",
                ],
                Transition::Phase4To5 => &[
                    "team_defense_zone_analysis",
                    "player_shot_zone_analysis",
                    "player_composite_factors",
                    "player_daily_cache",
                    "ml_feature_store",
                ],
            }
        };
        for t in Transition::ALL {
            for m in Mode::ALL {
                let c = t.default_config(m);
                assert_eq!(c.min_share_percent(), 60);
                for p in c.critical().iter().chain(c.optional()) {
                    assert!(phase(t).contains(&p.as_str()), "{t} {m}: {p}");
                }
                assert_eq!(c.timeouts().is_some(), t == Transition::Phase4To5);
            }
        }
    }

    #[test]
    fn invalid_configs_are_rejected() {
        assert!(TransitionConfig::new(&["a"], &["a"], &["a"], 60, None).is_err());
        assert!(TransitionConfig::new(&[], &["a"], &[], 60, None).is_err());
        assert!(TransitionConfig::new(&["a", "z"], &["a"], &[], 60, None).is_err());
        assert!(TransitionConfig::new(&["a"], &["a"], &[], 0, None).is_err());
        assert!(TransitionConfig::new(&[], &[], &[], 60, None).is_err());
        assert!(TransitionConfig::new(&["a"], &["a"], &["b"], 100, None).is_ok());
    }

    #[test]
    fn all_expected_fires() {
        let c = Transition::Phase3To4.default_config(Mode::Overnight);
        let s = statuses(&[
            ("team_offense_game_summary", Success),
            ("team_defense_game_summary", Partial),
            ("player_game_summary", Success),
            ("upcoming_team_game_context", Success),
            ("upcoming_player_game_context", Success),
        ]);
        assert_eq!(c.evaluate(&s), Some(TriggerReason::AllExpected));
        assert_eq!(c.done_count(&s), 5);
    }

    #[test]
    fn critical_plus_sixty_percent_fires_and_less_does_not() {
        let c = Transition::Phase3To4.default_config(Mode::Overnight);
        // 2 critical + 1 optional = 3 of 5 = 60 %.
        let mut s = statuses(&[
            ("player_game_summary", Success),
            ("upcoming_player_game_context", Success),
            ("team_offense_game_summary", Success),
        ]);
        assert_eq!(c.evaluate(&s), Some(TriggerReason::CriticalAndShare));
        // 2 of 5 = 40 %: not yet; a failed or skipped optional does not count.
        s.insert("team_offense_game_summary".into(), Failed);
        s.insert("team_defense_game_summary".into(), Skipped);
        assert_eq!(c.evaluate(&s), None);
        // no_data counts for an optional processor.
        s.insert("team_defense_game_summary".into(), NoData);
        assert_eq!(c.evaluate(&s), Some(TriggerReason::CriticalAndShare));
        // 61 % needed: 3 of 5 is no longer enough.
        let strict = c.clone().with_min_share_percent(61).unwrap();
        assert_eq!(strict.evaluate(&s), None);
    }

    #[test]
    fn a_missing_critical_blocks_even_with_every_optional_done() {
        let c = Transition::Phase3To4.default_config(Mode::Overnight);
        let mut s = statuses(&[
            ("team_offense_game_summary", Success),
            ("team_defense_game_summary", Success),
            ("player_game_summary", Success),
            ("upcoming_team_game_context", Success),
        ]);
        assert_eq!(c.evaluate(&s), None, "upcoming_player_game_context missing");
        // no_data on a critical processor does not count either.
        s.insert("upcoming_player_game_context".into(), NoData);
        assert_eq!(c.evaluate(&s), None);
        assert_eq!(c.done_count(&s), 4);
        s.insert("upcoming_player_game_context".into(), Partial);
        assert_eq!(c.evaluate(&s), Some(TriggerReason::AllExpected));
    }

    #[test]
    fn a_date_without_box_scores_still_reaches_phase_4() {
        // Before D's games (or when its box scores are missing) the
        // summaries have no data; D's phase 4 does not read them.
        let c = Transition::Phase3To4.default_config(Mode::Backfill);
        let s = statuses(&[
            ("team_offense_game_summary", NoData),
            ("team_defense_game_summary", NoData),
            ("player_game_summary", NoData),
            ("upcoming_team_game_context", Success),
            ("upcoming_player_game_context", Success),
        ]);
        assert_eq!(c.evaluate(&s), Some(TriggerReason::AllExpected));
    }

    #[test]
    fn an_up_to_date_skip_counts_like_success_and_no_other_skip_does() {
        let c = Transition::Phase3To4.default_config(Mode::Overnight);
        for p in [
            "upcoming_player_game_context", // critical
            "team_offense_game_summary",    // optional
        ] {
            assert!(c.counts_run(p, Skipped, true), "{p}");
            assert!(!c.counts_run(p, Skipped, false), "{p}");
            assert_eq!(c.counts_run(p, Success, true), c.counts(p, Success));
            assert!(!c.counts_run(p, Failed, true), "{p}: only a skip is lifted");
        }
        assert!(!c.counts_run("upcoming_player_game_context", NoData, true));
        assert!(!c.counts_run("player_props", Skipped, true), "untracked");
    }

    #[test]
    fn up_to_date_skips_fire_a_round_in_which_nothing_changed() {
        use crate::document::effective_status;
        let c = Transition::Phase3To4.default_config(Mode::Overnight);
        let procs = [
            "team_offense_game_summary",
            "team_defense_game_summary",
            "player_game_summary",
            "upcoming_team_game_context",
            "upcoming_player_game_context",
        ];
        let view = |up_to_date: bool| -> BTreeMap<String, CompletionStatus> {
            procs
                .iter()
                .map(|p| (p.to_string(), effective_status(Skipped, up_to_date)))
                .collect()
        };
        assert_eq!(c.evaluate(&view(true)), Some(TriggerReason::AllExpected));
        assert_eq!(c.done_count(&view(true)), 5);
        assert_eq!(c.evaluate(&view(false)), None);
        assert_eq!(c.done_count(&view(false)), 0);
    }

    #[test]
    fn same_day_phase3_needs_only_the_player_context() {
        let c = Transition::Phase3To4.default_config(Mode::SameDay);
        assert_eq!(
            c.evaluate(&statuses(&[("upcoming_team_game_context", Success)])),
            None
        );
        assert_eq!(
            c.evaluate(&statuses(&[("upcoming_player_game_context", Success)])),
            Some(TriggerReason::AllExpected)
        );
    }

    fn t(minutes: i64, seconds: i64) -> DateTime<Utc> {
        let t0 = DateTime::parse_from_rfc3339("2025-11-05T12:00:00Z")
            .unwrap()
            .to_utc();
        t0 + chrono::Duration::minutes(minutes) + chrono::Duration::seconds(seconds)
    }

    #[test]
    fn tiered_timeouts_at_their_boundaries() {
        let tt = TieredTimeouts::reference();
        let first = t(0, 0);
        let tier = |min_done: usize, mins: u64| TimeoutTier::Tier {
            min_done,
            after: Duration::from_secs(mins * 60),
        };
        // all five: at once
        assert_eq!(tt.reached(5, 5, first, t(1, 0)), Some(tier(5, 30)));
        // four: not before 1 h, at 1 h yes
        assert_eq!(tt.reached(4, 5, first, t(59, 59)), None);
        assert_eq!(tt.reached(4, 5, first, t(60, 0)), Some(tier(4, 60)));
        // three: not at 1 h nor just before 2 h, at 2 h yes
        assert_eq!(tt.reached(3, 5, first, t(60, 0)), None);
        assert_eq!(tt.reached(3, 5, first, t(119, 59)), None);
        assert_eq!(tt.reached(3, 5, first, t(120, 0)), Some(tier(3, 120)));
        // two (or none): only the hard maximum at 4 h
        assert_eq!(tt.reached(2, 5, first, t(239, 59)), None);
        assert_eq!(
            tt.reached(2, 5, first, t(240, 0)),
            Some(TimeoutTier::HardMax)
        );
        assert_eq!(
            tt.reached(0, 5, first, t(240, 0)),
            Some(TimeoutTier::HardMax)
        );
        // a clock behind the first completion is zero elapsed
        assert_eq!(tt.reached(4, 5, first, t(-5, 0)), None);
    }

    #[test]
    fn phase4_timeouts_apply_when_a_critical_is_missing() {
        let c = Transition::Phase4To5.default_config(Mode::Overnight);
        let s = statuses(&[
            ("team_defense_zone_analysis", Success),
            ("player_shot_zone_analysis", Success),
            ("player_composite_factors", Success),
            ("player_daily_cache", Success),
        ]);
        assert_eq!(c.evaluate(&s), None, "ml_feature_store is critical");
        assert_eq!(c.evaluate_at(&s, Some(t(0, 0)), t(59, 59)), None);
        assert!(matches!(
            c.evaluate_at(&s, Some(t(0, 0)), t(60, 0)),
            Some(TriggerReason::Timeout(TimeoutTier::Tier {
                min_done: 4,
                ..
            }))
        ));
        // 3→4 has no timeouts
        let c3 = Transition::Phase3To4.default_config(Mode::Overnight);
        assert_eq!(
            c3.evaluate_at(&BTreeMap::new(), Some(t(0, 0)), t(1000, 0)),
            None
        );
    }
}
