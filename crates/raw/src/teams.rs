//! The 30 NBA franchises: tricode, NBA team id, and the full names other
//! sources use ("Los Angeles Clippers" at sportsbooks, "LA Clippers" at
//! NBA.com), and balldontlie's team id.

/// One franchise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Team {
    pub tricode: &'static str,
    pub team_id: i64,
    /// balldontlie's team id (1–30; its ids above 30 are defunct
    /// franchises).
    pub balldontlie_id: i64,
    /// Full names as sources spell them; the first is the sportsbook one.
    pub names: &'static [&'static str],
}

pub const TEAMS: &[Team] = &[
    team("ATL", 1610612737, 1, &["Atlanta Hawks"]),
    team("BKN", 1610612751, 3, &["Brooklyn Nets"]),
    team("BOS", 1610612738, 2, &["Boston Celtics"]),
    team("CHA", 1610612766, 4, &["Charlotte Hornets"]),
    team("CHI", 1610612741, 5, &["Chicago Bulls"]),
    team("CLE", 1610612739, 6, &["Cleveland Cavaliers"]),
    team("DAL", 1610612742, 7, &["Dallas Mavericks"]),
    team("DEN", 1610612743, 8, &["Denver Nuggets"]),
    team("DET", 1610612765, 9, &["Detroit Pistons"]),
    team("GSW", 1610612744, 10, &["Golden State Warriors"]),
    team("HOU", 1610612745, 11, &["Houston Rockets"]),
    team("IND", 1610612754, 12, &["Indiana Pacers"]),
    team(
        "LAC",
        1610612746,
        13,
        &["Los Angeles Clippers", "LA Clippers"],
    ),
    team("LAL", 1610612747, 14, &["Los Angeles Lakers", "LA Lakers"]),
    team("MEM", 1610612763, 15, &["Memphis Grizzlies"]),
    team("MIA", 1610612748, 16, &["Miami Heat"]),
    team("MIL", 1610612749, 17, &["Milwaukee Bucks"]),
    team("MIN", 1610612750, 18, &["Minnesota Timberwolves"]),
    team("NOP", 1610612740, 19, &["New Orleans Pelicans"]),
    team("NYK", 1610612752, 20, &["New York Knicks"]),
    team("OKC", 1610612760, 21, &["Oklahoma City Thunder"]),
    team("ORL", 1610612753, 22, &["Orlando Magic"]),
    team("PHI", 1610612755, 23, &["Philadelphia 76ers"]),
    team("PHX", 1610612756, 24, &["Phoenix Suns"]),
    team("POR", 1610612757, 25, &["Portland Trail Blazers"]),
    team("SAC", 1610612758, 26, &["Sacramento Kings"]),
    team("SAS", 1610612759, 27, &["San Antonio Spurs"]),
    team("TOR", 1610612761, 28, &["Toronto Raptors"]),
    team("UTA", 1610612762, 29, &["Utah Jazz"]),
    team("WAS", 1610612764, 30, &["Washington Wizards"]),
];

const fn team(
    tricode: &'static str,
    team_id: i64,
    balldontlie_id: i64,
    names: &'static [&'static str],
) -> Team {
    Team {
        tricode,
        team_id,
        balldontlie_id,
        names,
    }
}

/// The tricode of a balldontlie team id.
pub fn tricode_of_balldontlie_id(id: i64) -> Option<&'static str> {
    TEAMS
        .iter()
        .find(|t| t.balldontlie_id == id)
        .map(|t| t.tricode)
}

/// The tricode of a full team name, ignoring case, spacing and punctuation.
pub fn tricode_of_name(name: &str) -> Option<&'static str> {
    let key = squash(name);
    TEAMS
        .iter()
        .find(|t| t.names.iter().any(|n| squash(n) == key))
        .map(|t| t.tricode)
}

/// Whether `code` is one of the 30 tricodes.
pub fn is_tricode(code: &str) -> bool {
    TEAMS.iter().any(|t| t.tricode == code)
}

fn squash(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sportsbook_and_nba_names_map_to_tricodes() {
        assert_eq!(tricode_of_name("Los Angeles Clippers"), Some("LAC"));
        assert_eq!(tricode_of_name("LA Clippers"), Some("LAC"));
        assert_eq!(tricode_of_name("Philadelphia 76ers"), Some("PHI"));
        assert_eq!(tricode_of_name("portland trail blazers"), Some("POR"));
        assert_eq!(tricode_of_name("Golden State Warriors"), Some("GSW"));
        assert_eq!(tricode_of_name("Seattle SuperSonics"), None);
        assert_eq!(TEAMS.len(), 30);
    }

    /// The balldontlie ids against the real `/teams` response the seed
    /// system scraped: ids 1–30 are the 30 franchises with our tricodes and
    /// full names; the ids above 30 are defunct (1940s) teams.
    #[test]
    fn balldontlie_ids_match_the_real_teams_response() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/raw_samples/seed_system/bdl_teams/raw_cf664c89.json"
        );
        let body: serde_json::Value =
            serde_json::from_slice(&std::fs::read(path).expect("bdl teams sample")).unwrap();
        let mut current = 0;
        for t in body["data"].as_array().unwrap() {
            let id = t["id"].as_i64().unwrap();
            let abbreviation = t["abbreviation"].as_str().unwrap();
            if id > 30 {
                assert_eq!(tricode_of_balldontlie_id(id), None);
                continue;
            }
            current += 1;
            assert_eq!(tricode_of_balldontlie_id(id), Some(abbreviation), "id {id}");
            assert_eq!(
                tricode_of_name(t["full_name"].as_str().unwrap()),
                Some(abbreviation)
            );
        }
        assert_eq!(current, 30);
    }
}
