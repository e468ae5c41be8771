//! Which geocoder answers: the BAN API, or the offline index built from imported BAN files.
//! `auto` (the default) uses the offline index once BAN files have been imported.

use std::sync::{Arc, RwLock};

use territory::geocoder::{BanApi, GeocodeError, Geocoded};
use territory::offline::{BanRow, OfflineGeocoder};

use crate::{App, AppError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GeocoderChoice {
    #[default]
    Auto,
    BanApi,
    Offline,
}

impl GeocoderChoice {
    pub fn parse(text: &str) -> Option<GeocoderChoice> {
        match text.trim() {
            "" | "auto" => Some(GeocoderChoice::Auto),
            "ban-api" => Some(GeocoderChoice::BanApi),
            "offline" => Some(GeocoderChoice::Offline),
            _ => None,
        }
    }
}

pub struct Geocoder {
    choice: GeocoderChoice,
    ban: BanApi,
    offline: RwLock<Option<Arc<OfflineGeocoder>>>,
}

impl Geocoder {
    pub fn new(choice: GeocoderChoice, ban: BanApi) -> Geocoder {
        Geocoder {
            choice,
            ban,
            offline: RwLock::new(None),
        }
    }

    fn offline(&self) -> Option<Arc<OfflineGeocoder>> {
        self.offline
            .read()
            .ok()
            .and_then(|g| g.clone())
            .filter(|o| o.address_count() > 0)
    }

    /// The offline index when it must or may be used; `None` means the BAN API.
    fn pick(&self) -> Result<Option<Arc<OfflineGeocoder>>, GeocodeError> {
        match self.choice {
            GeocoderChoice::BanApi => Ok(None),
            GeocoderChoice::Auto => Ok(self.offline()),
            GeocoderChoice::Offline => self
                .offline()
                .map(Some)
                .ok_or_else(|| GeocodeError::Service("géocodeur hors ligne choisi mais aucune adresse BAN importée (passerelle geocode import-ban)".into())),
        }
    }

    /// Which geocoder answers now, for the interface.
    pub fn describe(&self) -> &'static str {
        match self.pick() {
            Ok(Some(_)) => "adresses BAN importées (hors ligne)",
            Ok(None) => "API de la Base Adresse Nationale",
            Err(_) => "aucun (hors ligne choisi, rien d'importé)",
        }
    }

    pub async fn geocode(&self, query: &str) -> Result<Option<Geocoded>, GeocodeError> {
        match self.pick()? {
            Some(offline) => Ok(offline.geocode(query)),
            None => self.ban.geocode(query).await,
        }
    }

    pub async fn geocode_batch(
        &self,
        queries: &[String],
    ) -> Result<Vec<Option<Geocoded>>, GeocodeError> {
        match self.pick()? {
            Some(offline) => Ok(queries.iter().map(|q| offline.geocode(q)).collect()),
            None => self.ban.geocode_batch(queries).await,
        }
    }

    fn set_offline(&self, index: OfflineGeocoder) {
        if let Ok(mut g) = self.offline.write() {
            *g = Some(Arc::new(index));
        }
    }
}

/// Rebuilds the offline index from the imported addresses.
pub async fn reload(app: &App) -> Result<usize, AppError> {
    let rows = {
        let mut pooled = app.db.acquire().await?;
        store::ban::all(&mut pooled.conn()).await?
    };
    let index = tokio::task::spawn_blocking(move || OfflineGeocoder::build(rows))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let count = index.address_count();
    app.geocoder.set_offline(index);
    Ok(count)
}

/// Imports an official BAN file (plain or gzipped), streaming it in batches inside one
/// transaction: a bad line refuses the whole file and nothing is stored. Returns how many
/// addresses were read.
pub async fn import_ban(
    app: &App,
    input: impl std::io::Read + Send + 'static,
) -> Result<u64, AppError> {
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Vec<BanRow>>(4);
    let reader = tokio::task::spawn_blocking(move || {
        let mut batch = Vec::with_capacity(store::ban::BATCH);
        let count = territory::offline::read_ban_file(input, |row| {
            batch.push(row);
            if batch.len() == store::ban::BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(store::ban::BATCH));
                sender
                    .blocking_send(full)
                    .map_err(|_| "import interrompu".to_string())?;
            }
            Ok(())
        })?;
        if !batch.is_empty() {
            let _ = sender.blocking_send(batch);
        }
        Ok::<u64, territory::offline::BanFileError>(count)
    });
    let mut tx = app.db.begin().await?;
    while let Some(batch) = receiver.recv().await {
        store::ban::upsert(&mut tx.conn(), &batch).await?;
    }
    let count = reader
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::field("fichier", e.to_string()))?;
    tx.commit().await?;
    reload(app).await?;
    Ok(count)
}

/// The demo's offline address extract (fictional streets of Maubeuge and Louvroil around the
/// demo's fictional QPVs, in the official BAN format): imported when no BAN address is, so
/// « Vérifier une adresse » and the mass check answer on a fresh machine without network.
pub async fn seed_demo(app: &App) -> Result<u64, AppError> {
    let mut pooled = app.db.acquire().await?;
    if store::ban::count(&mut pooled.conn()).await? > 0 {
        return Ok(0);
    }
    drop(pooled);
    import_ban(
        app,
        std::io::Cursor::new(include_bytes!("../data/ban-demo.csv").as_slice()),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "id;id_fantoir;numero;rep;nom_voie;code_postal;code_insee;nom_commune;code_insee_ancienne_commune;nom_ancienne_commune;x;y;lon;lat;type_position;alias;nom_ld;libelle_acheminement;nom_afnor;source_position;source_nom_voie;certification_commune;cad_parcelles
59392_0001_00012;;12;;Rue de la Démonstration;59600;59392;Maubeuge;;;0;0;3.962;50.272;entrée;;;MAUBEUGE;;commune;commune;1;
59392_0002_00001;;1;;Allée du Parc;59600;59392;Maubeuge;;;0;0;3.9655;50.275;entrée;;;MAUBEUGE;;commune;commune;1;
";

    store::both_backends! {
        async fn imported_ban_addresses_answer_offline_and_a_bad_file_changes_nothing(db) {
            let app = App::new(db.clone(), crate::Settings { ban_api_url: "http://127.0.0.1:9".into(), ..crate::Settings::default() }, None).await.expect("app");
            crate::qpv::seed_demo(&app).await.expect("demo QPVs");
            assert_eq!(import_ban(&app, std::io::Cursor::new(FILE.as_bytes().to_vec())).await.expect("imported"), 2);
            // The BAN API is unreachable here: the answer comes from the imported file.
            let answer = crate::qpv::lookup_address(&app, "12 rue de la Demonstration 59600 Maubeuge", domain::Millesime::Y2024).await.expect("offline");
            assert_eq!(answer.qpv.code_qp.as_deref(), Some("QN05990N"));
            assert_eq!(answer.confidence, territory::geocoder::Confidence::Sur);
            let bad = FILE.replace("3.9655;50.275", "3.9655;abc");
            let Err(AppError::Invalid(errors)) = import_ban(&app, std::io::Cursor::new(bad.into_bytes())).await else { panic!("refused") };
            assert!(errors.get("fichier").expect("file error").starts_with("ligne 3"));
            let mut pooled = db.acquire().await.expect("connection");
            assert_eq!(store::ban::count(&mut pooled.conn()).await.expect("count"), 2, "re-import of the same ids, nothing lost");
            // Another instance over the same database loads the addresses at start.
            let other = App::new(db.clone(), crate::Settings { ban_api_url: "http://127.0.0.1:9".into(), ..crate::Settings::default() }, None).await.expect("app");
            assert_eq!(other.geocoder.describe(), "adresses BAN importées (hors ligne)");
        }
    }

    #[tokio::test]
    async fn offline_chosen_without_imported_addresses_is_a_clear_error() {
        let geocoder = Geocoder::new(
            GeocoderChoice::Offline,
            BanApi::new("http://127.0.0.1:9").expect("client"),
        );
        let err = geocoder
            .geocode("12 rue X")
            .await
            .expect_err("nothing imported");
        assert!(
            err.to_string().contains("aucune adresse BAN importée"),
            "{err}"
        );
    }
}
