//! Per-field validation errors, in French, keyed by the form field's name.

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(Vec<(&'static str, String)>);

impl FieldErrors {
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push((field, message.into()));
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.0.iter().map(|(f, m)| (*f, m.as_str()))
    }

    /// Records the outcome of parsing one field and returns the value when it was valid.
    pub fn check<T>(
        &mut self,
        field: &'static str,
        result: Result<T, domain::Invalid>,
    ) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(field, e.0);
                None
            }
        }
    }

    pub fn into_result<T>(self, value: impl FnOnce() -> Option<T>) -> Result<T, crate::AppError> {
        if self.is_empty() {
            value().ok_or_else(|| crate::AppError::Internal("validated value missing".into()))
        } else {
            Err(crate::AppError::Invalid(self))
        }
    }
}

/// A checkbox in a form: ticked when sent (whatever its value), unticked when absent — for
/// input structs decoded from a form (`#[serde(deserialize_with = "ticked")]`).
pub fn ticked<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let value = <String as serde::Deserialize>::deserialize(d)?;
    Ok(!value.is_empty() && value != "0")
}
