//! The limits CPython's compiler puts on nesting, checked before any walk
//! of a module, so that a module Python refuses is reported as refused and
//! a hostile one can neither overflow tracelab's stack nor take its time.

use ruff_python_ast::token::TokenKind;
use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{Expr, ModModule, Stmt};
use ruff_python_parser::Parsed;
use ruff_text_size::{Ranged, TextSize};

/// CPython's tokenizer refuses a 201st bracket inside 200 open ones
/// (`MAXLEVEL` in every CPython 3).
const MAX_BRACKETS: usize = 200;

/// CPython 3.10 and 3.11 refuse to compile statements and expressions
/// nested past 3,000 levels (the recursion limit times
/// `COMPILER_STACK_FRAME_SCALE`, less the frames already in use):
/// "RecursionError: maximum recursion depth exceeded during compilation".
/// Past this depth a module fails to import whatever frames are in use.
pub const MAX_DEPTH: usize = 3_000;

/// Why Python would refuse to compile this module, and where.
pub struct Refusal {
    pub offset: TextSize,
    pub message: String,
}

/// The first nesting limit the module breaks, if any.
pub fn refusal(parsed: &Parsed<ModModule>) -> Option<Refusal> {
    too_many_brackets(parsed).or_else(|| too_deep(&parsed.syntax().body))
}

fn too_many_brackets(parsed: &Parsed<ModModule>) -> Option<Refusal> {
    let mut level = 0usize;
    for token in parsed.tokens().iter() {
        match token.kind() {
            TokenKind::Lpar | TokenKind::Lsqb | TokenKind::Lbrace => {
                level += 1;
                if level > MAX_BRACKETS {
                    return Some(Refusal {
                        offset: token.start(),
                        message: "SyntaxError: too many nested parentheses".into(),
                    });
                }
            }
            TokenKind::Rpar | TokenKind::Rsqb | TokenKind::Rbrace => {
                level = level.saturating_sub(1)
            }
            _ => {}
        }
    }
    None
}

/// Statements and expressions nested deeper than [`MAX_DEPTH`]. The walk
/// stops at the limit, so it costs at most that many frames.
fn too_deep(body: &[Stmt]) -> Option<Refusal> {
    let mut depth = Depth {
        level: 0,
        statement: TextSize::default(),
        found: None,
    };
    depth.visit_body(body);
    depth.found
}

struct Depth {
    level: usize,
    /// Where the outermost statement being walked starts: the line to name.
    statement: TextSize,
    found: Option<Refusal>,
}

impl Depth {
    /// A statement or expression one level deeper: walked within the limit,
    /// past it recorded once and not walked.
    fn nest(&mut self, walk: impl FnOnce(&mut Self)) {
        self.level += 1;
        if self.found.is_none() {
            if self.level <= MAX_DEPTH {
                walk(self);
            } else {
                self.found = Some(Refusal {
                    offset: self.statement,
                    message: format!(
                        "RecursionError: maximum recursion depth exceeded during compilation \
                         (a statement nested over {MAX_DEPTH} levels deep)"
                    ),
                });
            }
        }
        self.level -= 1;
    }
}

impl<'a> Visitor<'a> for Depth {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if self.level == 0 {
            self.statement = stmt.start();
        }
        self.nest(|depth| visitor::walk_stmt(depth, stmt));
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        self.nest(|depth| visitor::walk_expr(depth, expr));
    }
}
