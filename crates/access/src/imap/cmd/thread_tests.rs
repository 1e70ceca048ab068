//! RFC 5256 threading vectors: small sets of messages whose threads are known.

use super::*;
use crate::imap::cmd::subject::base_subject;

/// Message `num`, sent at `date`, with a subject, an id and its References.
fn msg(num: u32, date: i64, subject: &str, id: Option<&str>, refs: &[&str]) -> Msg {
    Msg {
        num,
        msn: num,
        date,
        subject: base_subject(subject),
        id: id.and_then(normalise_id),
        refs: refs.iter().filter_map(|r| normalise_id(r)).collect(),
    }
}

fn refs(msgs: &[Msg]) -> String {
    render(&references(msgs))
}

#[test]
fn a_chain_and_a_branch() {
    let m = [
        msg(1, 10, "plan", Some("<a@x>"), &[]),
        msg(2, 20, "Re: plan", Some("<b@x>"), &["<a@x>"]),
        msg(3, 30, "Re: plan", Some("<c@x>"), &["<a@x>", "<b@x>"]),
        msg(4, 40, "Re: plan", Some("<d@x>"), &["<a@x>"]),
    ];
    assert_eq!(refs(&m), "(1 (2 3)(4))");
}

#[test]
fn dummy_parents_kept_at_the_root_when_they_join_several() {
    // Both reply to a message that is not here: a dummy holds them together.
    let m = [
        msg(1, 10, "hello", Some("<x1@x>"), &["<gone@x>"]),
        msg(2, 20, "other", Some("<x2@x>"), &["<gone@x>"]),
        msg(3, 5, "alone", Some("<x3@x>"), &["<lost@x>"]),
    ];
    // The lone child of a missing parent is promoted; roots go by sent date (a dummy by its
    // first child's).
    assert_eq!(refs(&m), "(3)((1)(2))");
}

#[test]
fn dummies_below_the_root_are_spliced_out() {
    // 2 references 1 through a message that is not here.
    let m = [
        msg(1, 10, "a", Some("<a@x>"), &[]),
        msg(2, 20, "b", Some("<c@x>"), &["<a@x>", "<missing@x>"]),
        msg(3, 30, "c", Some("<d@x>"), &["<a@x>", "<missing@x>"]),
    ];
    assert_eq!(refs(&m), "(1 (2)(3))");
}

#[test]
fn a_truncated_references_parent_is_replaced() {
    // 1's References say a > b > c > 1; 2 is c, and its own References name only a.
    let m = [
        msg(1, 20, "x", Some("<d@x>"), &["<a@x>", "<b@x>", "<c@x>"]),
        msg(2, 10, "x", Some("<c@x>"), &["<a@x>"]),
    ];
    // c moves under a, b is left empty and pruned, a (a dummy with one child) is promoted.
    assert_eq!(refs(&m), "(2 1)");
}

#[test]
fn loops_are_not_linked() {
    let m = [
        msg(1, 10, "p", Some("<a@x>"), &["<b@x>"]),
        msg(2, 20, "q", Some("<b@x>"), &["<a@x>"]),
        msg(3, 30, "r", Some("<s@x>"), &["<s@x>"]),
    ];
    assert_eq!(refs(&m), "(2 1)(3)");
}

#[test]
fn duplicate_and_missing_ids_stand_alone() {
    let m = [
        msg(1, 10, "one", Some("<a@x>"), &[]),
        msg(2, 20, "two", Some("<a@x>"), &[]),
        msg(3, 30, "three", Some("<b@x>"), &["<a@x>"]),
        msg(4, 40, "four", None, &[]),
    ];
    assert_eq!(refs(&m), "(1 3)(2)(4)");
}

#[test]
fn roots_grouped_by_base_subject() {
    let m = [
        msg(1, 10, "Party", Some("<p1@x>"), &[]),
        // A reply without references goes under the message with the plain subject.
        msg(2, 20, "Re: party", Some("<p2@x>"), &[]),
        // Two non-replies with the same subject share a new dummy.
        msg(3, 30, "Lunch", Some("<l1@x>"), &[]),
        msg(4, 40, "[team] lunch", Some("<l2@x>"), &[]),
        // Empty subjects are never grouped.
        msg(5, 50, "", Some("<e1@x>"), &[]),
        msg(6, 60, "Re:", Some("<e2@x>"), &[]),
    ];
    assert_eq!(refs(&m), "(1 2)((3)(4))(5)(6)");
}

#[test]
fn the_plain_subject_wins_over_an_earlier_reply() {
    // The reply comes first, yet the table keeps the original, and the reply goes under it.
    let m = [
        msg(1, 10, "Re: news", Some("<n1@x>"), &[]),
        msg(2, 20, "news", Some("<n2@x>"), &[]),
    ];
    assert_eq!(refs(&m), "(2 1)");
}

#[test]
fn a_message_joins_a_dummy_with_its_subject() {
    let m = [
        msg(1, 10, "report", Some("<r1@x>"), &["<gone@x>"]),
        msg(2, 20, "Re: report", Some("<r2@x>"), &["<gone@x>"]),
        msg(3, 30, "Re: report", Some("<r3@x>"), &[]),
    ];
    assert_eq!(refs(&m), "((1)(2)(3))");
}

#[test]
fn siblings_by_sent_date_then_number() {
    let m = [
        msg(1, 10, "s", Some("<a@x>"), &[]),
        msg(2, 50, "Re: s", Some("<b@x>"), &["<a@x>"]),
        msg(3, 30, "Re: s", Some("<c@x>"), &["<a@x>"]),
        msg(4, 30, "Re: s", Some("<d@x>"), &["<a@x>"]),
    ];
    assert_eq!(refs(&m), "(1 (3)(4)(2))");
}

#[test]
fn ordered_subject_threads() {
    let m = [
        msg(1, 10, "b", None, &[]),
        msg(2, 20, "Re: a", None, &[]),
        msg(3, 30, "a", None, &[]),
        msg(4, 40, "Fwd: b", None, &[]),
        msg(5, 5, "A", None, &[]),
    ];
    assert_eq!(render(&ordered_subject(&m)), "(5 (2)(3))(1 4)");
}

#[test]
fn ids() {
    assert_eq!(normalise_id(" <Ab@X> "), Some("ab@x".into()));
    assert_eq!(normalise_id("<>"), None);
    assert_eq!(
        first_id("Ann's note of <m1@x> (and <m2@x>)"),
        Some("m1@x".into())
    );
    assert_eq!(first_id("no id"), None);
}
