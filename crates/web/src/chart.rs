//! Server-rendered SVG charts (no script): the levels of the eight fields over time, and bars
//! for the indicators. The table beside each chart is the source of truth; the chart is
//! `aria-hidden` decoration of it.

use chrono::NaiveDate;
use domain::Field;
use domain::diagnostic::Level;

use crate::forms::escape;

/// One colour per field, from the DSFR illustrative palette, distinguishable in grey too
/// (each line also has its own dash pattern).
fn style(f: Field) -> (&'static str, &'static str) {
    match f {
        Field::ReseauProfessionnel => ("#000091", ""),
        Field::SavoirsDeBase => ("#a558a0", "6 3"),
        Field::CompetencesNumeriques => ("#009081", "2 2"),
        Field::ContraintesFamiliales => ("#c3992a", "8 3 2 3"),
        Field::Mobilite => ("#ce614a", "4 4"),
        Field::Logement => ("#417dc4", "10 4"),
        Field::PrecariteFinanciere => ("#6a6156", "1 3"),
        Field::SanteHandicap => ("#e1000f", "12 3 3 3"),
    }
}

/// The chart: x the dates of the signed diagnostics, y the level 0 to 3.
pub fn levels(dates: &[NaiveDate], series: &[(Field, Vec<Option<Level>>)]) -> String {
    let (w, h, left, top, bottom, right) = (640.0, 240.0, 150.0, 16.0, 36.0, 16.0);
    let plot_w: f64 = w - left - right;
    let plot_h: f64 = h - top - bottom;
    let x = |i: usize| {
        if dates.len() <= 1 {
            left + plot_w / 2.0
        } else {
            left + plot_w * i as f64 / (dates.len() - 1) as f64
        }
    };
    let y = |level: u8| top + plot_h * (3.0 - f64::from(level)) / 3.0;
    let mut svg = format!(
        "<svg class=\"passerelle-chart\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-hidden=\"true\" focusable=\"false\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    for level in Level::ALL {
        let v = level.value();
        svg.push_str(&format!(
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/><text x=\"{}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{}</text>",
            w - right,
            left - 6.0,
            y(v) + 4.0,
            escape(level.label()),
            y = y(v)
        ));
    }
    for (i, d) in dates.iter().enumerate() {
        svg.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{}</text>",
            x(i),
            h - 12.0,
            d.format("%d/%m/%y")
        ));
    }
    for (field, levels) in series {
        let (colour, dash) = style(*field);
        let points: Vec<String> = levels
            .iter()
            .enumerate()
            .filter_map(|(i, l)| l.map(|l| format!("{:.1},{:.1}", x(i), y(l.value()))))
            .collect();
        if points.len() > 1 {
            svg.push_str(&format!(
                "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" stroke-dasharray=\"{dash}\" points=\"{}\"/>",
                points.join(" ")
            ));
        }
        for p in &points {
            let (px, py) = p.split_once(',').unwrap_or(("0", "0"));
            svg.push_str(&format!(
                "<circle cx=\"{px}\" cy=\"{py}\" r=\"3.5\" fill=\"{colour}\"/>"
            ));
        }
    }
    svg.push_str("</svg>");
    svg
}

/// The legend entries: (field label, colour, dash), for the list under the chart.
pub fn legend(series: &[(Field, Vec<Option<Level>>)]) -> Vec<(&'static str, &'static str)> {
    series
        .iter()
        .map(|(f, _)| (f.label(), style(*f).0))
        .collect()
}

/// Horizontal bars, one per (label, value); a masked value (`None`) has no bar and reads « s ».
pub fn bars(bars: &[(String, Option<i64>)]) -> String {
    let (w, left, right, step) = (640.0, 230.0, 60.0, 26.0);
    let h = step * bars.len() as f64 + 8.0;
    let max = bars
        .iter()
        .filter_map(|(_, v)| *v)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let mut svg = format!(
        "<svg class=\"passerelle-chart\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-hidden=\"true\" focusable=\"false\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    for (i, (label, value)) in bars.iter().enumerate() {
        let y = 4.0 + step * i as f64;
        let width = value.map_or(0.0, |v| (w - left - right) * v as f64 / max);
        svg.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"end\">{}</text>",
            left - 8.0,
            y + 15.0,
            escape(label)
        ));
        svg.push_str(&format!(
            "<rect x=\"{left}\" y=\"{y:.1}\" width=\"{width:.1}\" height=\"{:.1}\" fill=\"#000091\"/>",
            step - 8.0
        ));
        svg.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\">{}</text>",
            left + width + 6.0,
            y + 15.0,
            value.map_or_else(|| "s".to_string(), |v| v.to_string())
        ));
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_field_assessed_twice_and_one_point_per_level() {
        let d = |m| NaiveDate::from_ymd_opt(2026, m, 1).expect("date");
        let svg = levels(
            &[d(1), d(4)],
            &[
                (
                    Field::Mobilite,
                    vec![Some(Level::Bloquant), Some(Level::Leger)],
                ),
                (Field::Logement, vec![None, Some(Level::Important)]),
            ],
        );
        assert_eq!(svg.matches("<polyline").count(), 1);
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains("01/04/26"));
        assert!(svg.contains("aria-hidden=\"true\""));
    }

    #[test]
    fn bars_scale_to_the_largest_and_masked_ones_have_none() {
        let svg = bars(&[
            ("Repérés".into(), Some(40)),
            ("Contactés".into(), Some(20)),
            ("Orientés".into(), None),
        ]);
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(svg.contains("width=\"350.0\""), "{svg}");
        assert!(svg.contains("width=\"175.0\""), "{svg}");
        assert!(
            svg.contains("width=\"0.0\"") && svg.contains(">s</text>"),
            "{svg}"
        );
    }
}
