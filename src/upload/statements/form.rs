//! How an upload statement runs: inside a transaction, alone, or alone and claiming the
//! ledger key; what a lone one checks of the rows it changed; and which keep their plan.

use crate::upload::request::Op;

/// Appended to a statement that also claims the ledger key: it changes nothing when the
/// key was claimed before.
const CLAIMED: &str = " and exists (select 1 from claim)";

/// How upload statements are planned. A plan Postgres caches for a prepared statement is
/// made once for the table as it is then: made while `notes` was empty (a fresh install),
/// it would scan the whole table long after it filled up, and 1-op uploads fell to a few
/// hundred per second with Postgres saturated. So the statements that find rows by id go
/// unprepared (`persistent(false)`) and are planned for the table as it is, every time;
/// only a lone PUT, which reads `notes` through its conflict arbiter alone (see `super::put_sql`),
/// keeps its plan; and the foreign key checks and triggers keep theirs.
pub fn cached_plan(op: Op, form: Form) -> bool {
    op == Op::Put && form != Form::InTransaction
}

/// Which form of a statement runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Form {
    /// One of the statements of a BEGIN … COMMIT.
    InTransaction,
    /// Alone in its own implicit transaction.
    Alone,
    /// Alone, and claiming the ledger key in the same statement.
    Claiming,
}

impl Form {
    /// What the statement's condition ends with.
    fn extra(self) -> &'static str {
        match self {
            Form::InTransaction | Form::Alone => "",
            Form::Claiming => CLAIMED,
        }
    }

    /// The statement with that ending: inside a transaction as it is (rows affected);
    /// alone, it yields one row `(claimed, affected)` (see `counted`). `first_param` is
    /// where the ledger key's parameters start when it claims.
    pub(super) fn build(
        self,
        statement: impl Fn(&str) -> String,
        first_param: usize,
        check: Check,
    ) -> String {
        let sql = statement(self.extra());
        match self {
            Form::InTransaction => sql,
            Form::Alone => counted(sql, None, check),
            Form::Claiming => counted(sql, Some(first_param), check),
        }
    }
}

/// What a lone statement checks of the rows it changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Check {
    /// Nothing: fewer rows than ids are asked about afterwards (missing rows are fine).
    Count,
    /// Every id of the array (`$1` as the statement takes it) was written, or
    /// `notebox_refused()` undoes the statement (a PUT: each of its rows is inserted or
    /// replaced, unless it is off limits).
    AllOrNothing(&'static str),
}

pub(super) const FORMS: [Form; 3] = [Form::InTransaction, Form::Alone, Form::Claiming];

/// A lone statement as one row `(claimed, affected)`: with the ledger key
/// (`$first_param`, `$first_param + 1`) it also claims it, and `claimed` is 0 when the key
/// was claimed before (then the statement changed nothing); without, `claimed` is 1.
fn counted(sql: String, claim: Option<usize>, check: Check) -> String {
    let (with, claimed) = match claim {
        Some(first_param) => (
            format!("{}, ", crate::upload::ledger::claim_cte(first_param)),
            "(select count(*) from claim)",
        ),
        None => (String::new(), "1::bigint"),
    };
    let affected = match check {
        Check::Count => "c.affected".to_owned(),
        Check::AllOrNothing(ids) => format!(
            "case when c.claimed = 0 or c.affected = cardinality({ids}) then c.affected \
             else {REFUSE}() end"
        ),
    };
    format!(
        "with {with}data as ({sql} returning 1) select c.claimed, {affected} \
         from (select {claimed} as claimed, (select count(*) from data) as affected) c"
    )
}

/// Raises `REFUSED` (migration 20261130000001): the statement that calls it is undone.
const REFUSE: &str = "notebox_refused";

/// The SQLSTATE of a lone PUT that was refused a row and undid itself.
pub const REFUSED: &str = "NB001";
