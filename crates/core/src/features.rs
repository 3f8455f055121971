//! The ML feature vector layout shared by the feature store (Phase 4, which
//! writes it) and the prediction systems and model training (Phase 5, which
//! read it). One list, one version: a model trained on one version refuses
//! vectors of another.
//!
//! Every feature is known before tip-off of the game it describes. A
//! *nullable* feature is stored as NULL when its source has no value (the
//! shot zones before 2022-23 and from 2024-25 on, the prop lines before
//! 2025-26); a non-nullable one falls back to its documented default and is
//! flagged `defaulted` (REFERENCE §3.5).

/// Version stored in `ml_feature_store.feature_version` and in a trained
/// model; bump it whenever [`FEATURES`] changes.
pub const FEATURE_VERSION: &str = "v1_37features";

/// Where a feature value came from; each source has a weight in the quality
/// score (REFERENCE §3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FeatureSource {
    /// A Phase 4 table (daily cache, composite factors, zone analyses).
    Phase4,
    /// A Phase 3 table (upcoming contexts, game summaries).
    Phase3,
    /// Computed here from game history.
    Calculated,
    /// A real sportsbook line.
    Vegas,
    /// Head-to-head history against the opponent.
    OpponentHistory,
    /// The documented default: the source had no value.
    Default,
    /// A nullable feature with no value (stored NULL).
    Missing,
}

impl FeatureSource {
    pub fn as_str(self) -> &'static str {
        match self {
            FeatureSource::Phase4 => "phase4",
            FeatureSource::Phase3 => "phase3",
            FeatureSource::Calculated => "calculated",
            FeatureSource::Vegas => "vegas",
            FeatureSource::OpponentHistory => "opponent_history",
            FeatureSource::Default => "default",
            FeatureSource::Missing => "missing",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "phase4" => FeatureSource::Phase4,
            "phase3" => FeatureSource::Phase3,
            "calculated" => FeatureSource::Calculated,
            "vegas" => FeatureSource::Vegas,
            "opponent_history" => FeatureSource::OpponentHistory,
            "default" => FeatureSource::Default,
            "missing" => FeatureSource::Missing,
            _ => return None,
        })
    }

    /// Weight in the quality score (REFERENCE §3.5, `v1_hybrid`).
    pub fn quality_weight(self) -> f64 {
        match self {
            FeatureSource::Phase4 | FeatureSource::Calculated | FeatureSource::Vegas => 100.0,
            FeatureSource::Phase3 => 87.0,
            FeatureSource::OpponentHistory => 90.0,
            FeatureSource::Default => 40.0,
            FeatureSource::Missing => 0.0,
        }
    }
}

/// One feature of the vector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeatureDef {
    pub name: &'static str,
    /// Stored as NULL when missing (never defaulted).
    pub nullable: bool,
    /// The value used when a non-nullable feature's source has none.
    pub default: f64,
    /// Optional features may be missing without lowering the quality cap.
    pub optional: bool,
}

const fn req(name: &'static str, default: f64) -> FeatureDef {
    FeatureDef {
        name,
        nullable: false,
        default,
        optional: false,
    }
}

const fn opt(name: &'static str, default: f64) -> FeatureDef {
    FeatureDef {
        name,
        nullable: false,
        default,
        optional: true,
    }
}

const fn nullable(name: &'static str) -> FeatureDef {
    FeatureDef {
        name,
        nullable: true,
        default: f64::NAN,
        optional: true,
    }
}

/// The vector, in order. Indices are stable within a [`FEATURE_VERSION`].
pub const FEATURES: [FeatureDef; 37] = [
    req("points_avg_last_5", 10.0),       // 0
    req("points_avg_last_10", 10.0),      // 1
    req("points_avg_season", 10.0),       // 2
    req("points_std_last_10", 5.0),       // 3
    req("games_in_last_7_days", 3.0),     // 4
    req("fatigue_score", 50.0),           // 5
    req("shot_zone_mismatch_score", 0.0), // 6
    req("pace_score", 0.0),               // 7
    req("usage_spike_score", 0.0),        // 8
    opt("rest_advantage", 0.0),           // 9
    opt("injury_risk", 0.0),              // 10
    opt("recent_trend", 0.0),             // 11
    opt("minutes_change", 0.0),           // 12
    req("opponent_def_rating", 112.0),    // 13
    req("opponent_pace", 100.0),          // 14
    req("home_away", 0.0),                // 15
    req("back_to_back", 0.0),             // 16
    req("playoff_game", 0.0),             // 17
    nullable("pct_paint"),                // 18
    nullable("pct_mid_range"),            // 19
    nullable("pct_three"),                // 20
    opt("pct_free_throw", 0.15),          // 21
    req("team_pace", 100.0),              // 22
    req("team_off_rating", 112.0),        // 23
    opt("team_win_pct", 0.5),             // 24
    nullable("vegas_points_line"),        // 25
    nullable("vegas_opening_line"),       // 26
    nullable("vegas_line_move"),          // 27
    opt("has_vegas_line", 0.0),           // 28
    opt("avg_points_vs_opponent", 10.0),  // 29
    opt("games_vs_opponent", 0.0),        // 30
    req("minutes_avg_last_10", 28.0),     // 31
    req("ppm_avg_last_10", 0.4),          // 32
    nullable("days_rest"),                // 33
    opt("pts_slope_10g", 0.0),            // 34
    opt("pts_vs_season_zscore", 0.0),     // 35
    nullable("usage_rate_last_5"),        // 36
];

/// Number of features in [`FEATURES`].
pub const FEATURE_COUNT: usize = FEATURES.len();

/// The index of a feature by name.
pub fn feature_index(name: &str) -> Option<usize> {
    FEATURES.iter().position(|f| f.name == name)
}

/// Features the quality gate treats as critical (REFERENCE §3.5: fatigue,
/// the three other composite factors, opponent defense and pace).
pub const CRITICAL_FEATURES: [&str; 6] = [
    "fatigue_score",
    "shot_zone_mismatch_score",
    "pace_score",
    "usage_spike_score",
    "opponent_def_rating",
    "opponent_pace",
];

/// Quality tier of a score (0–100).
pub fn quality_tier(score: f64) -> &'static str {
    if score >= 95.0 {
        "gold"
    } else if score >= 85.0 {
        "silver"
    } else if score >= 70.0 {
        "bronze"
    } else if score >= 50.0 {
        "poor"
    } else {
        "critical"
    }
}

/// A feature vector parsed back from an `ml_feature_store` row.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureVector {
    pub version: String,
    /// `None` = NULL (a nullable feature without a value).
    pub values: Vec<Option<f64>>,
    pub sources: Vec<FeatureSource>,
    pub defaulted: Vec<bool>,
    pub quality_score: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeatureVectorError {
    #[error("feature vector version {found} does not match {expected}")]
    Version { found: String, expected: String },
    #[error("feature vector has {found} {what}, expected {expected}")]
    Length {
        what: &'static str,
        found: usize,
        expected: usize,
    },
    #[error("feature vector field {field} is not valid JSON of the expected shape: {message}")]
    Json {
        field: &'static str,
        message: String,
    },
    #[error("unknown feature source {0:?}")]
    Source(String),
}

impl FeatureVector {
    /// Parses the JSON columns of an `ml_feature_store` row, checking the
    /// version and the lengths against [`FEATURES`].
    pub fn from_row(row: &crate::tables::MlFeatureStore) -> Result<Self, FeatureVectorError> {
        if row.feature_version != FEATURE_VERSION {
            return Err(FeatureVectorError::Version {
                found: row.feature_version.clone(),
                expected: FEATURE_VERSION.to_string(),
            });
        }
        let json = |field: &'static str, e: serde_json::Error| FeatureVectorError::Json {
            field,
            message: e.to_string(),
        };
        let values: Vec<Option<f64>> =
            serde_json::from_str(&row.features).map_err(|e| json("features", e))?;
        let sources: Vec<String> =
            serde_json::from_str(&row.feature_sources).map_err(|e| json("feature_sources", e))?;
        let defaulted: Vec<bool> = serde_json::from_str(&row.feature_defaulted)
            .map_err(|e| json("feature_defaulted", e))?;
        for (what, found) in [
            ("values", values.len()),
            ("sources", sources.len()),
            ("defaulted flags", defaulted.len()),
        ] {
            if found != FEATURE_COUNT {
                return Err(FeatureVectorError::Length {
                    what,
                    found,
                    expected: FEATURE_COUNT,
                });
            }
        }
        let sources = sources
            .iter()
            .map(|s| FeatureSource::parse(s).ok_or_else(|| FeatureVectorError::Source(s.clone())))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(FeatureVector {
            version: row.feature_version.clone(),
            values,
            sources,
            defaulted,
            quality_score: row.feature_quality_score,
        })
    }

    /// The value of a feature by name (`None` when NULL or unknown).
    pub fn get(&self, name: &str) -> Option<f64> {
        feature_index(name).and_then(|i| self.values.get(i).copied().flatten())
    }

    /// Values as model input: NULL becomes NaN (the GBM's missing value).
    pub fn as_model_input(&self) -> Vec<f64> {
        self.values.iter().map(|v| v.unwrap_or(f64::NAN)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_nullable_features_have_no_default() {
        let mut names: Vec<_> = FEATURES.iter().map(|f| f.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), FEATURE_COUNT);
        for f in FEATURES {
            assert_eq!(f.nullable, f.default.is_nan(), "{}", f.name);
        }
        for name in CRITICAL_FEATURES {
            assert!(feature_index(name).is_some(), "{name}");
        }
        assert_eq!(feature_index("vegas_points_line"), Some(25));
    }

    #[test]
    fn tiers_follow_the_reference_thresholds() {
        assert_eq!(quality_tier(95.0), "gold");
        assert_eq!(quality_tier(94.9), "silver");
        assert_eq!(quality_tier(85.0), "silver");
        assert_eq!(quality_tier(70.0), "bronze");
        assert_eq!(quality_tier(50.0), "poor");
        assert_eq!(quality_tier(49.9), "critical");
    }
}
