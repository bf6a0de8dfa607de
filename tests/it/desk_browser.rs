//! The operator's desk in a real browser: Chromium, driven headless, against the bot with its
//! desk on, over a sessions folder seeded with interviews in every state.

use std::time::Duration;

use ai_interviewer::desk::{Index, State};

use crate::support::seed;

/// The generator writes what it says: the desk's index, reading the folder as the bot would,
/// finds every seeded interview in the state it was written for, in both languages, with
/// spoken and typed answers, and leaves out the one without consent.
#[test]
fn the_seeded_interviews_are_in_every_desk_state() {
    let dir = tempfile::tempdir().unwrap();
    let now = chrono::Utc::now();
    let seeded = seed::seed(dir.path(), 28, now);
    let index = Index::scan(dir.path());
    assert_eq!(index.len(), 28, "every consented interview, and only those");
    assert!(index.of_user(seed::WITHOUT_CONSENT).is_empty());
    let idle_after = Duration::from_secs(180 * 60);
    for interview in seeded.iter().filter(|s| s.consent) {
        let row = index
            .get((interview.user, interview.id))
            .unwrap_or_else(|| panic!("{} is not on the desk", interview.user));
        assert_eq!(
            row.state(now, idle_after),
            interview.state,
            "{}",
            interview.user
        );
        assert_eq!(row.language, interview.language);
        assert_eq!(row.voice_answers as usize, interview.voice_answers);
        assert_eq!(row.answers() as usize, interview.answers);
        assert_eq!(row.report, interview.report, "{}", interview.user);
    }
    for state in State::ALL {
        for language in ai_interviewer::model::Lang::ALL {
            assert!(
                seeded
                    .iter()
                    .any(|s| s.state == state && s.language == language),
                "no {state:?} interview in {language}"
            );
        }
    }
    assert!(seeded.iter().any(|s| s.voice_answers > 0));
    assert!(seeded.iter().any(|s| s.voice_answers < s.answers));
}
