//! Property tests: both forms round-trip, the evaluator agrees with a naive reference interpreter and with its
//! own explanation, and no JSON tree or text makes parsing, evaluating or explaining panic.

use super::test_support::{eur, schema, world as standard_world};
use super::tests_generators::{Scope, condition, leaf, operands, world};
use super::tests_reference::{reference, same_value};
use super::{Json, Rule};
use proptest::prelude::*;

fn arbitrary_json() -> impl Strategy<Value = Json> {
    const KEYS: [&str; 22] = [
        "and", "or", "not", "op", "left", "right", "exists", "any", "every", "none", "field", "call", "args", "count",
        "window", "number", "money", "string", "bool", "date", "list", "x",
    ];
    const WORDS: [&str; 16] = [
        "order.amount",
        "customer.metadata.vip",
        "item.price",
        "==",
        ">=",
        "in",
        "between",
        "contains",
        "spent",
        "events",
        "last_30_days",
        "lifetime",
        "50.00",
        "DE",
        "2024-01-31",
        "seg_01JAAAAAAAAAAAAAAAAAAAAAAA",
    ];
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        prop_oneof![
            Just("1".to_owned()),
            Just("50.00".to_owned()),
            Just("-0".to_owned()),
            Just("1e400".to_owned()),
            "[0-9.eE+-]{0,6}"
        ]
        .prop_map(Json::Number),
        prop_oneof![proptest::sample::select(WORDS.to_vec()).prop_map(str::to_owned), "\\PC{0,6}"]
            .prop_map(Json::String),
    ];
    leaf.prop_recursive(6, 48, 4, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
            proptest::collection::vec((proptest::sample::select(KEYS.to_vec()).prop_map(str::to_owned), inner), 0..4)
                .prop_map(Json::Object),
        ]
    })
}

fn token_soup() -> impl Strategy<Value = String> {
    const TOKENS: [&str; 40] = [
        "(",
        ")",
        "[",
        "]",
        ",",
        "and",
        "or",
        "not",
        "==",
        "!=",
        "<",
        ">=",
        "in",
        "between",
        "contains",
        "starts_with",
        "exists",
        "any",
        "every",
        "none",
        "count",
        "true",
        "false",
        "order.amount",
        "customer.metadata.x",
        "customer.metadata",
        "item.price",
        "item.collections",
        "spent",
        "events",
        "last_30_days",
        "lifetime",
        "50.00",
        "3",
        "-2.5",
        "\"DE\"",
        "2024-01-31",
        "hour",
        "in_segment",
        "\"seg_01JAAAAAAAAAAAAAAAAAAAAAAA\"",
    ];
    proptest::collection::vec(proptest::sample::select(TOKENS.to_vec()), 0..24).prop_map(|tokens| tokens.join(" "))
}

/// Replaces the `index`-th node (pre-order) of `json` with `replacement`; `index` counts down as nodes pass.
fn replace_node(json: &mut Json, index: &mut usize, replacement: &Json) -> bool {
    if *index == 0 {
        *json = replacement.clone();
        return true;
    }
    *index -= 1;
    match json {
        Json::Array(items) => items.iter_mut().any(|item| replace_node(item, index, replacement)),
        Json::Object(pairs) => pairs.iter_mut().any(|(_, value)| replace_node(value, index, replacement)),
        _ => false,
    }
}

/// Whatever parsed must evaluate and explain (without panicking, and consistently) and print canonically.
fn exercise(rule: &Rule) {
    let world = standard_world();
    let (evaluated, explained) = world.with_context(|ctx| (rule.evaluate(ctx), rule.explain(ctx).result));
    assert_eq!(evaluated, explained);
    let text = rule.to_text();
    let again = Rule::parse_text(&text, &schema()).expect("canonical text parses");
    assert_eq!(again.to_text(), text);
    assert_eq!(Rule::from_json(&rule.to_json(), &schema()).as_ref(), Ok(rule));
}

proptest! {
    // Evaluation properties need many cases: a window edge or a threshold is hit only now and then.
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    #[test]
    fn the_text_form_round_trips(cond in condition()) {
        let rule = Rule::new(cond, eur());
        let text = rule.to_text();
        let parsed = Rule::parse_text(&text, &schema());
        prop_assert_eq!(parsed.as_ref(), Ok(&rule), "text: {}", text);
    }

    #[test]
    fn the_node_count_is_the_number_of_json_nodes(cond in condition()) {
        fn nodes(json: &Json) -> usize {
            match json {
                Json::Object(pairs) => 1 + pairs.iter().map(|(_, v)| nodes(v)).sum::<usize>(),
                Json::Array(items) => items.iter().map(nodes).sum(),
                _ => 0,
            }
        }
        let rule = Rule::new(cond, eur());
        prop_assert_eq!(rule.node_count(), nodes(&rule.to_json()));
    }

    #[test]
    fn the_json_form_round_trips(cond in condition()) {
        let rule = Rule::new(cond, eur());
        let json = rule.to_json();
        let parsed = Rule::from_json(&json, &schema());
        prop_assert_eq!(parsed.as_ref(), Ok(&rule), "json: {}", json);
        prop_assert_eq!(parsed.map(|r| r.to_json()), Ok(json));
    }

    #[test]
    fn every_operand_has_the_value_the_reference_interpreter_computes(operand in operands(Scope::Rule), world in world()) {
        let (expr, _) = operand;
        let checked = same_value(&expr, &world);
        prop_assert!(checked.is_ok(), "{:?}: {:?}", expr, checked);
    }

    #[test]
    fn single_conditions_agree_with_the_reference_interpreter(cond in leaf(Scope::Rule), world in world()) {
        let rule = Rule::new(cond, eur());
        let expected = reference(rule.condition(), &world);
        let (evaluated, explained) = world.with_context(|ctx| (rule.evaluate(ctx), rule.explain(ctx).result));
        prop_assert_eq!((evaluated, explained), (expected, expected), "rule: {}", rule);
    }

    #[test]
    fn the_evaluator_agrees_with_the_reference_interpreter_and_the_explanation(cond in condition(), world in world()) {
        let rule = Rule::new(cond, eur());
        let expected = reference(rule.condition(), &world);
        let (evaluated, explained) = world.with_context(|ctx| (rule.evaluate(ctx), rule.explain(ctx).result));
        prop_assert_eq!(evaluated, expected, "rule: {}", rule);
        prop_assert_eq!(explained, expected, "rule: {}", rule);
    }

    #[test]
    fn no_json_tree_makes_parsing_or_evaluation_panic(json in arbitrary_json()) {
        if let Ok(rule) = Rule::from_json(&json, &schema()) {
            exercise(&rule);
        }
    }

    #[test]
    fn a_valid_rule_with_one_node_replaced_never_panics(cond in condition(), replacement in arbitrary_json(), at in 0_usize..60) {
        let mut json = Rule::new(cond, eur()).to_json();
        let mut index = at;
        replace_node(&mut json, &mut index, &replacement);
        if let Ok(rule) = Rule::from_json(&json, &schema()) {
            exercise(&rule);
        }
    }

    #[test]
    fn a_valid_rule_text_with_one_splice_never_panics(cond in condition(), insert in token_soup(), at in 0_usize..400, cut in 0_usize..6) {
        let text: Vec<char> = Rule::new(cond, eur()).to_text().chars().collect();
        let at = at.min(text.len());
        let end = (at + cut).min(text.len());
        let spliced: String = text[..at].iter().chain(insert.chars().collect::<Vec<_>>().iter()).chain(&text[end..]).collect();
        if let Ok(rule) = Rule::parse_text(&spliced, &schema()) {
            exercise(&rule);
        }
    }

    #[test]
    fn no_text_makes_parsing_or_evaluation_panic(text in "\\PC{0,40}") {
        if let Ok(rule) = Rule::parse_text(&text, &schema()) {
            exercise(&rule);
        }
    }

    #[test]
    fn token_soup_either_fails_cleanly_or_prints_canonically(text in token_soup()) {
        match Rule::parse_text(&text, &schema()) {
            Ok(rule) => exercise(&rule),
            Err(errors) => prop_assert!(!errors.is_empty()),
        }
    }
}
