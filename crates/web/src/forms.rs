//! DSFR form fields rendered in one place: label, hint, value kept after an error, the
//! error itself tied to the field with `aria-describedby`.

use std::fmt::{self, Display, Write};

use app::FieldErrors;

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

enum Kind {
    Input {
        kind: &'static str,
        autocomplete: Option<&'static str>,
    },
    TextArea,
    Select(Vec<(String, String)>),
}

pub struct Field {
    name: &'static str,
    label: String,
    hint: Option<String>,
    value: String,
    error: Option<String>,
    required: bool,
    kind: Kind,
}

impl Field {
    fn new(name: &'static str, label: &str, value: &str, kind: Kind) -> Field {
        Field {
            name,
            label: label.into(),
            hint: None,
            value: value.into(),
            error: None,
            required: false,
            kind,
        }
    }

    pub fn text(name: &'static str, label: &str, value: &str) -> Field {
        Field::new(
            name,
            label,
            value,
            Kind::Input {
                kind: "text",
                autocomplete: None,
            },
        )
    }

    pub fn typed(
        name: &'static str,
        label: &str,
        value: &str,
        kind: &'static str,
        autocomplete: &'static str,
    ) -> Field {
        Field::new(
            name,
            label,
            value,
            Kind::Input {
                kind,
                autocomplete: Some(autocomplete),
            },
        )
    }

    pub fn textarea(name: &'static str, label: &str, value: &str) -> Field {
        Field::new(name, label, value, Kind::TextArea)
    }

    pub fn select(
        name: &'static str,
        label: &str,
        value: &str,
        options: Vec<(String, String)>,
    ) -> Field {
        Field::new(name, label, value, Kind::Select(options))
    }

    pub fn hint(mut self, hint: &str) -> Field {
        self.hint = Some(hint.into());
        self
    }

    pub fn required(mut self) -> Field {
        self.required = true;
        self
    }

    pub fn errors(mut self, errors: &FieldErrors) -> Field {
        self.error = errors.get(self.name).map(str::to_string);
        self
    }
}

impl Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self.name;
        let (group, control) = match self.kind {
            Kind::Select(_) => ("fr-select-group", "fr-select"),
            _ => ("fr-input-group", "fr-input"),
        };
        let error_class = if self.error.is_some() {
            format!(" {group}--error")
        } else {
            String::new()
        };
        write!(f, "<div class=\"{group}{error_class}\">")?;
        write!(
            f,
            "<label class=\"fr-label\" for=\"{id}\">{}",
            escape(&self.label)
        )?;
        if self.required {
            f.write_str(" <span aria-hidden=\"true\">*</span>")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "<span class=\"fr-hint-text\">{}</span>", escape(hint))?;
        }
        f.write_str("</label>")?;
        let mut attrs = String::new();
        if self.error.is_some() {
            let _ = write!(
                attrs,
                " aria-describedby=\"{id}-error\" aria-invalid=\"true\""
            );
        }
        if self.required {
            attrs.push_str(" required");
        }
        let control_error = if self.error.is_some() {
            format!(" {control}--error")
        } else {
            String::new()
        };
        match &self.kind {
            Kind::Input { kind, autocomplete } => {
                if let Some(a) = autocomplete {
                    let _ = write!(attrs, " autocomplete=\"{a}\"");
                }
                let value = if *kind == "password" {
                    String::new()
                } else {
                    escape(&self.value)
                };
                write!(
                    f,
                    "<input class=\"{control}{control_error}\" type=\"{kind}\" id=\"{id}\" name=\"{id}\" value=\"{value}\"{attrs}>"
                )?;
            }
            Kind::TextArea => {
                write!(
                    f,
                    "<textarea class=\"{control}{control_error}\" id=\"{id}\" name=\"{id}\" rows=\"3\"{attrs}>{}</textarea>",
                    escape(&self.value)
                )?;
            }
            Kind::Select(options) => {
                write!(
                    f,
                    "<select class=\"{control}{control_error}\" id=\"{id}\" name=\"{id}\"{attrs}>"
                )?;
                f.write_str("<option value=\"\">Sélectionnez une option</option>")?;
                for (value, label) in options {
                    let selected = if *value == self.value {
                        " selected"
                    } else {
                        ""
                    };
                    write!(
                        f,
                        "<option value=\"{}\"{selected}>{}</option>",
                        escape(value),
                        escape(label)
                    )?;
                }
                f.write_str("</select>")?;
            }
        }
        if let Some(error) = &self.error {
            write!(
                f,
                "<p id=\"{id}-error\" class=\"fr-error-text\">{}</p>",
                escape(error)
            )?;
        }
        f.write_str("</div>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_in_error_keeps_the_typed_value_escaped_and_points_to_its_message() {
        let mut errors = FieldErrors::default();
        errors.add("name", "Saisissez le nom.");
        let html = Field::text("name", "Nom", "<b>\"x\"</b>")
            .required()
            .errors(&errors)
            .to_string();
        assert!(html.contains("fr-input-group--error"));
        assert!(html.contains("value=\"&lt;b&gt;&quot;x&quot;&lt;/b&gt;\""));
        assert!(html.contains("aria-describedby=\"name-error\""));
        assert!(
            html.contains("<p id=\"name-error\" class=\"fr-error-text\">Saisissez le nom.</p>")
        );
    }

    #[test]
    fn a_password_field_never_echoes_its_value() {
        let html = Field::typed(
            "password",
            "Mot de passe",
            "secret",
            "password",
            "current-password",
        )
        .to_string();
        assert!(!html.contains("secret"));
    }
}
