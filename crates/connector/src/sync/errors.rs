//! A job's errors, grouped by kind: every kind is counted, the first few of each are kept with
//! their context, and the cause of a failure is never dropped however many errors came before.

use std::collections::BTreeMap;

use crate::store::JobError;

/// Errors kept per kind; the rest are counted.
const KEPT_PER_KIND: usize = 5;

/// The errors of a running job.
#[derive(Debug, Default)]
pub(crate) struct ErrorLog {
    kept: Vec<JobError>,
    counts: BTreeMap<String, u64>,
}

/// The kind of an error: the first word of its context (`attachment 123` → `attachment`).
fn kind_of(context: &str) -> &str {
    context.split_whitespace().next().unwrap_or("sync")
}

impl ErrorLog {
    /// Records an error; kept when it is among the first few of its kind.
    pub fn push(&mut self, error: JobError) {
        let count = self
            .counts
            .entry(kind_of(&error.context).to_owned())
            .or_default();
        *count += 1;
        if *count as usize <= KEPT_PER_KIND {
            self.kept.push(error);
        }
    }

    /// Records the error that ended the job: always kept, first.
    pub fn fatal(&mut self, error: JobError) {
        *self
            .counts
            .entry(kind_of(&error.context).to_owned())
            .or_default() += 1;
        self.kept.insert(0, error);
    }

    /// The kept errors, then one line per kind that had more than were kept.
    pub fn into_errors(self) -> Vec<JobError> {
        let mut errors = self.kept;
        for (kind, count) in self.counts {
            let kept = errors
                .iter()
                .filter(|e| kind_of(&e.context) == kind)
                .count() as u64;
            if count > kept {
                errors.push(JobError {
                    context: format!("{kind} (all)"),
                    message: format!(
                        "{count} problems of this kind in all; the first {kept} are listed above"
                    ),
                });
            }
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(context: &str, message: &str) -> JobError {
        JobError {
            context: context.to_owned(),
            message: message.to_owned(),
        }
    }

    #[test]
    fn errors_are_grouped_counted_and_the_fatal_cause_is_kept_first() {
        let mut log = ErrorLog::default();
        for i in 0..200 {
            log.push(error(&format!("attachment {i}"), "download failed"));
        }
        log.push(error("space OPS", "listing pages failed"));
        log.fatal(error("sync", "the token was refused"));
        let errors = log.into_errors();
        assert_eq!(errors[0].message, "the token was refused");
        assert_eq!(
            errors
                .iter()
                .filter(|e| e.message == "download failed")
                .count(),
            KEPT_PER_KIND
        );
        assert!(errors.iter().any(|e| e.context == "space OPS"));
        let summary = errors
            .iter()
            .find(|e| e.context == "attachment (all)")
            .unwrap();
        assert!(
            summary.message.starts_with("200 problems"),
            "{}",
            summary.message
        );
        assert!(!errors.iter().any(|e| e.context == "space (all)"));
    }
}
