//! The rule language (R1, R2): typed AST, text form, type checking, evaluation with explanations.
