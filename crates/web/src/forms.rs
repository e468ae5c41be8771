//! DSFR form fields rendered in one place: label, hint, value kept after an error, the
//! error itself tied to the field with `aria-describedby`.

use std::fmt::{self, Display, Write};

use app::FieldErrors;

use crate::WebError;

/// The status of a page that shows a form: 422 when it shows errors, else 200.
pub fn status_for(errors: &FieldErrors) -> axum::http::StatusCode {
    if errors.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    }
}

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
    /// The element's id when two forms of a page have a field of the same name.
    id: Option<&'static str>,
    label: String,
    hint: Option<String>,
    value: String,
    error: Option<String>,
    required: bool,
    /// The empty choice of a select (« Sélectionnez une option » unless said).
    placeholder: Option<String>,
    kind: Kind,
}

impl Field {
    fn new(name: &'static str, label: &str, value: &str, kind: Kind) -> Field {
        Field {
            name,
            id: None,
            label: label.into(),
            hint: None,
            value: value.into(),
            error: None,
            required: false,
            placeholder: None,
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

    /// Another id than the field's name (its label and error follow).
    pub fn id(mut self, id: &'static str) -> Field {
        self.id = Some(id);
        self
    }

    /// What the empty choice of a select says.
    pub fn placeholder(mut self, text: &str) -> Field {
        self.placeholder = Some(text.into());
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
        let id = self.id.unwrap_or(self.name);
        let name = self.name;
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
                    "<input class=\"{control}{control_error}\" type=\"{kind}\" id=\"{id}\" name=\"{name}\" value=\"{value}\"{attrs}>"
                )?;
            }
            Kind::TextArea => {
                write!(
                    f,
                    "<textarea class=\"{control}{control_error}\" id=\"{id}\" name=\"{name}\" rows=\"3\"{attrs}>{}</textarea>",
                    escape(&self.value)
                )?;
            }
            Kind::Select(options) => {
                write!(
                    f,
                    "<select class=\"{control}{control_error}\" id=\"{id}\" name=\"{name}\"{attrs}>"
                )?;
                write!(
                    f,
                    "<option value=\"\">{}</option>",
                    escape(
                        self.placeholder
                            .as_deref()
                            .unwrap_or("Sélectionnez une option")
                    )
                )?;
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

/// The fields of a submitted form, in order (repeated names for checkboxes).
pub type Pairs = Vec<(String, String)>;

/// A form's fields decoded into the typed input of a use case: field names are the struct's,
/// repeated names (ticked checkboxes) fill a `Vec`, absent fields take their default. Several
/// structs may be decoded from the same form.
pub fn decode<T: serde::de::DeserializeOwned>(pairs: &[(String, String)]) -> Result<T, WebError> {
    let encoded = serde_urlencoded::to_string(pairs)
        .map_err(|_| WebError::BadRequest("Le formulaire envoyé est illisible.".into()))?;
    serde_html_form::from_str(&encoded).map_err(|e| {
        tracing::info!(error = %e, "form not decoded");
        WebError::BadRequest(
            "Le formulaire envoyé est incomplet ou mal rempli : revenez à la page précédente, rechargez-la, puis envoyez-le de nouveau.".into(),
        )
    })
}

/// A form field's value ("" when absent).
pub fn one(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// Every value of a repeated form field (ticked checkboxes).
pub fn many(pairs: &[(String, String)], name: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .collect()
}

/// An instant as the clock shows it where the territory is (« 01/12/2026 à 23:30 »).
pub fn moment(at: chrono::DateTime<chrono::Utc>, zone: domain::TimeZone) -> String {
    zone.local(at).format("%d/%m/%Y à %H:%M").to_string()
}

/// An ISO date (AAAA-MM-JJ) shown the French way; other text is shown as it is.
pub fn date_fr(iso: &str) -> String {
    chrono::NaiveDate::parse_from_str(iso, domain::ISO_DATE)
        .map_or_else(|_| iso.to_string(), |d| d.format("%d/%m/%Y").to_string())
}

/// Options (value, label) under an optional sub-legend.
type OptionGroup = (Option<String>, Vec<(String, String)>);

/// A group of checkboxes (DSFR fieldset) for a list value; options may be grouped under
/// sub-legends (thematiques under their catégorie).
pub struct Checkboxes {
    name: &'static str,
    legend: String,
    hint: Option<String>,
    groups: Vec<OptionGroup>,
    checked: Vec<String>,
    error: Option<String>,
    inline: bool,
}

impl Checkboxes {
    pub fn new(
        name: &'static str,
        legend: &str,
        options: Vec<(String, String)>,
        checked: &[String],
    ) -> Checkboxes {
        Checkboxes {
            name,
            legend: legend.into(),
            hint: None,
            groups: vec![(None, options)],
            checked: checked.to_vec(),
            error: None,
            inline: false,
        }
    }

    pub fn grouped(
        name: &'static str,
        legend: &str,
        groups: Vec<(String, Vec<(String, String)>)>,
        checked: &[String],
    ) -> Checkboxes {
        Checkboxes {
            groups: groups.into_iter().map(|(g, o)| (Some(g), o)).collect(),
            ..Checkboxes::new(name, legend, Vec::new(), checked)
        }
    }

    pub fn hint(mut self, hint: &str) -> Checkboxes {
        self.hint = Some(hint.into());
        self
    }

    pub fn inline(mut self) -> Checkboxes {
        self.inline = true;
        self
    }

    pub fn errors(mut self, errors: &FieldErrors) -> Checkboxes {
        self.error = errors.get(self.name).map(str::to_string);
        self
    }
}

impl Display for Checkboxes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.name;
        let error = if self.error.is_some() {
            " fr-fieldset--error"
        } else {
            ""
        };
        let described = if self.error.is_some() {
            format!(" aria-labelledby=\"{name}-legend {name}-error\" role=\"group\"")
        } else {
            format!(" aria-labelledby=\"{name}-legend\"")
        };
        write!(
            f,
            "<fieldset class=\"fr-fieldset{error}\" id=\"{name}\"{described}>"
        )?;
        write!(
            f,
            "<legend class=\"fr-fieldset__legend fr-text--regular\" id=\"{name}-legend\">{}",
            escape(&self.legend)
        )?;
        if let Some(hint) = &self.hint {
            write!(f, "<span class=\"fr-hint-text\">{}</span>", escape(hint))?;
        }
        f.write_str("</legend>")?;
        let inline = if self.inline {
            " fr-fieldset__element--inline"
        } else {
            ""
        };
        let mut n = 0;
        for (group, options) in &self.groups {
            if let Some(g) = group {
                write!(
                    f,
                    "<div class=\"fr-fieldset__element\"><p class=\"fr-text--bold fr-mb-1v fr-mt-2v\">{}</p></div>",
                    escape(g)
                )?;
            }
            for (value, label) in options {
                n += 1;
                let checked = if self.checked.iter().any(|c| c == value) {
                    " checked"
                } else {
                    ""
                };
                write!(
                    f,
                    "<div class=\"fr-fieldset__element{inline}\"><div class=\"fr-checkbox-group\"><input type=\"checkbox\" id=\"{name}-{n}\" name=\"{name}\" value=\"{}\"{checked}><label class=\"fr-label\" for=\"{name}-{n}\">{}</label></div></div>",
                    escape(value),
                    escape(label)
                )?;
            }
        }
        if let Some(e) = &self.error {
            write!(
                f,
                "<div class=\"fr-messages-group\" id=\"{name}-error\" aria-live=\"assertive\"><p class=\"fr-message fr-message--error\">{}</p></div>",
                escape(e)
            )?;
        }
        f.write_str("</fieldset>")
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

    #[test]
    fn a_form_decodes_into_its_typed_input_with_repeated_checkboxes() {
        let pairs: Pairs = [
            ("csrf_token", "x"),
            ("first_name", "Awa"),
            ("need_fields", "mobilite"),
            ("need_fields", "logement"),
            ("confirm", "1"),
            ("champ_inconnu", "ignoré"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let input: app::persons::OutreachInput = decode(&pairs).expect("decoded");
        assert_eq!(input.first_name, "Awa");
        assert_eq!(input.need_fields, vec!["mobilite", "logement"]);
        assert!(input.confirm);
        assert_eq!(input.last_name, "", "an absent field takes its default");
        let unticked: app::persons::OutreachInput = decode(&pairs[..2]).expect("decoded");
        assert!(!unticked.confirm && unticked.need_fields.is_empty());
        // The same form gives the entry and its situation.
        let pairs: Pairs = vec![
            ("purposes".into(), "accompagnement".into()),
            ("purposes".into(), "partage".into()),
            ("sex".into(), "femme".into()),
        ];
        let entry: app::persons::EntryInput = decode(&pairs).expect("entry");
        let situation: app::persons::SituationInput = decode(&pairs).expect("situation");
        assert_eq!(entry.purposes.len(), 2);
        assert_eq!(situation.sex, "femme");
    }
}
