"""The end-to-end social-choice pipeline (DESIGN §1, §5).

rater data → individual reward model → rater latents → Gaussian mixture → simulated voters →
rewards [voters, completions] per prompt → rankings → the chosen rule → social orders → a plain
Bradley–Terry reward model trained on those orders (the *social* reward model).

Every stage's artefact is kept on the fitted estimator, and every stage can be replaced: pass a
fitted :class:`~socialrm.models.IndividualRewardModel` as ``individual``, a fitted (or unfitted)
density as ``density``, your own rater latents to :meth:`SocialChoiceRewardModel.fit`, or a Python
callable as ``rule``.

Example
-------
>>> import socialrm as srm
>>> data = srm.examples.four_types(n_raters=200, seed=0, mode="features")
>>> pipe = SocialChoiceRewardModel(rule="borda", n_voters=200, verbose=False,
...     individual=dict(max_steps=300, collapse="ignore"), social=dict(n_steps=200)).fit(data)
>>> pipe.score([0, 0], [0, 1]).shape
(2,)
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._validation import check_is_fitted, check_n_threads, seed_from_random_state
from .choice import Profile, SocialOrder, aggregate
from .data import PreferenceData
from .exceptions import NotFittedError
from .density import GaussianMixture
from .io import load_safetensors, read_manifest, save_safetensors, write_manifest
from .models import IndividualRewardModel
from .reward import RewardModel

__all__ = ["SocialChoiceRewardModel", "DEFAULT_REPORT_RULES"]

_FORMAT = "socialrm.SocialChoiceRewardModel/1"
#: Rules compared by :meth:`SocialChoiceRewardModel.disagreement` by default.
DEFAULT_REPORT_RULES = ("borda", "copeland", "kemeny", "schulze")


def _stage_bar(total: int, desc: str, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, leave=False)


def _voter_rankings(rewards: np.ndarray) -> np.ndarray:
    """Each voter's ranking (completion indices, best first; stable on equal rewards)."""
    return np.argsort(-rewards, axis=1, kind="stable")


class SocialChoiceRewardModel:
    """Social reward model: a reward model whose preferences follow a chosen aggregation rule.

    Parameters
    ----------
    rule : str or callable
        A rule name from :func:`socialrm.available_rules`, or a callable ``rule(profile, **options)``
        returning a :class:`SocialOrder`, a ranks array (0 = best) or a scores array (higher =
        better). ``"random_ballot"`` is a lottery over voters' ballots: the social model is trained
        on every simulated voter's ballot (each weighted by its share), so it learns what vanilla
        RLHF learns from randomly drawn raters (DESIGN §5).
    n_voters : int
        Simulated voters drawn from the density (1000).
    n_components : int
        Mixture components (10; capped at the number of raters).
    covariance_type : {"diag", "full", "tied", "spherical"}
    rule_options : dict, optional
        Keyword options of the rule (``tie_break``, ``order``, ...).
    individual : IndividualRewardModel or dict, optional
        A fitted model (used as is), an unfitted one (fitted on the data), or its keyword arguments.
    social : dict or False, optional
        Keyword arguments of the social :class:`~socialrm.reward.RewardModel`; ``False`` stops after
        the social orders (no social model; for exploring the simulated voters).
    density : estimator, optional
        Fitted (used as is) or unfitted (fitted on the latents) density with ``sample(n,
        random_state=)``; default a :class:`~socialrm.density.GaussianMixture`.
    random_state : int, Generator or None
        Seeds every stage (each gets its own derived seed).
    n_threads : int or None
        Threads of every C stage (None or 0 = all cores).
    verbose : bool
        One tqdm progress bar per stage.

    Attributes
    ----------
    individual_ : IndividualRewardModel
    latents_ : ndarray [n_raters, d_latent]
        Rater latent means.
    density_ : GaussianMixture (or the given density)
    voter_latents_ : ndarray [n_voters, d_latent]
    voter_preferences_ : ndarray [n_voters, d_latent]
        The voters' latents decoded once (:meth:`IndividualRewardModel.decode`); every later
        reward computation starts from these, so no voter is decoded twice.
    voter_components_ : ndarray [n_voters]
    prompts_ : ndarray [K]
        Prompt ids with at least two completions (the relabelled prompts).
    completions_ : list of K ndarray
        Their completion ids (the candidates of each social order).
    profiles_ : list of K Profile
        The simulated voters' score profiles.
    social_orders_ : list of K SocialOrder
    margins_ : list of K ndarray [m, m]
        Voters' pairwise margins as shares of the voters (support a ≻ b minus b ≻ a, / n_voters).
    social_model_ : RewardModel
    """

    def __init__(
        self,
        rule: str | Callable[..., Any] = "copeland",
        n_voters: int = 1000,
        n_components: int = 10,
        covariance_type: str = "diag",
        rule_options: dict | None = None,
        individual: IndividualRewardModel | dict | None = None,
        social: dict | None = None,
        density: Any = None,
        random_state: int | np.random.Generator | None = 0,
        n_threads: int | None = None,
        verbose: bool = True,
    ) -> None:
        self.rule = rule
        self.n_voters = n_voters
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.rule_options = rule_options
        self.individual = individual
        self.social = social
        self.density = density
        self.random_state = random_state
        self.n_threads = n_threads
        self.verbose = verbose

    # ------------------------------------------------------------------ helpers

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Hyper-parameters (scikit-learn convention)."""
        names = ("rule", "n_voters", "n_components", "covariance_type", "rule_options", "individual", "social",
                 "density", "random_state", "n_threads", "verbose")
        return {n: getattr(self, n) for n in names}

    def _check_params(self) -> None:
        if not (isinstance(self.rule, str) or callable(self.rule)):
            raise TypeError(f"rule: expected a rule name or a callable, got {type(self.rule).__name__}")
        for name in ("n_voters", "n_components"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise TypeError(f"{name}: expected an int, got {type(v).__name__}")
            if v < 1:
                raise ValueError(f"{name}: must be >= 1, got {v}")
        for name in ("rule_options", "social"):
            v = getattr(self, name)
            if v is not None and not isinstance(v, dict) and not (name == "social" and v is False):
                raise TypeError(f"{name}: expected a dict or None, got {type(v).__name__}")
        if self.individual is not None and not isinstance(self.individual, (dict, IndividualRewardModel)):
            raise TypeError("individual: expected an IndividualRewardModel, a dict of its arguments or None")
        check_n_threads(self.n_threads)

    def _seeds(self) -> dict[str, int]:
        base = seed_from_random_state(self.random_state)
        ss = np.random.SeedSequence(base).generate_state(4, dtype=np.uint32)
        return {"individual": int(ss[0]), "density": int(ss[1]), "voters": int(ss[2]), "social": int(ss[3])}

    def _make_individual(self, seed: int) -> IndividualRewardModel:
        ind = self.individual
        if isinstance(ind, IndividualRewardModel):
            return ind
        kw = {"random_state": seed, "n_threads": self.n_threads, "progress": bool(self.verbose)}
        kw.update(ind or {})
        return IndividualRewardModel(**kw)

    def _aggregate(self, P: Profile) -> SocialOrder:
        return aggregate(P, self.rule, **(self.rule_options or {}))

    @property
    def _rule_name(self) -> str:
        return self.rule if isinstance(self.rule, str) else getattr(self.rule, "__name__", "callable")

    # ------------------------------------------------------------------ fit

    def fit(self, data: PreferenceData, latents: Any = None) -> SocialChoiceRewardModel:
        """Run every stage on ``data``.

        Parameters
        ----------
        data : PreferenceData
            Rater rankings (token or feature mode).
        latents : array-like [n_raters, d_latent], optional
            Your own rater latents (skips :meth:`IndividualRewardModel.embed_raters`).

        Returns
        -------
        self
        """
        if not isinstance(data, PreferenceData):
            raise TypeError(f"data: expected a socialrm.PreferenceData, got {type(data).__name__}")
        self._check_params()
        seeds = self._seeds()
        # 1. individual model
        ind = self._make_individual(seeds["individual"])
        if not hasattr(ind, "model_"):
            ind.fit(data)
        self.individual_ = ind
        # 2. latents
        if latents is None:
            Z = ind.embed_raters(data)
        else:
            Z = np.asarray(latents, dtype=np.float32)
            if Z.ndim != 2 or Z.shape != (data.n_raters, ind.config_["d_latent"]):
                raise ValueError(f"latents: expected shape ({data.n_raters}, {ind.config_['d_latent']}), got {Z.shape}")
            if not np.all(np.isfinite(Z)):
                raise ValueError("latents: NaN or infinite values")
        self.latents_ = Z
        # 3. density
        dens = self.density
        if dens is None:
            dens = GaussianMixture(n_components=min(int(self.n_components), data.n_raters),
                                   covariance_type=self.covariance_type, random_state=seeds["density"],
                                   n_threads=self.n_threads)
        if not hasattr(dens, "means_") and not getattr(dens, "fitted_", False):
            w = getattr(data, "rater_weights", None)
            if w is None:
                dens.fit(Z.astype(np.float64))
            else:  # raters' weights become sample weights (the density must accept them)
                dens.fit(Z.astype(np.float64), sample_weight=np.asarray(w, np.float64))
        self.density_ = dens
        # 4. voters (a density whose sample() takes no seed, e.g. scikit-learn's, uses its own state)
        try:
            vz, vc = dens.sample(int(self.n_voters), random_state=seeds["voters"])
        except TypeError:
            vz, vc = dens.sample(int(self.n_voters))
        self.voter_latents_ = np.ascontiguousarray(vz, dtype=np.float32)
        self.voter_preferences_ = ind.decode(self.voter_latents_)
        self.voter_components_ = np.asarray(vc)
        # 5. relabel the data's prompts
        prompts = [p for p in range(data.n_prompts) if len(data.completions_of(p)) >= 2]
        self.prompts_ = np.asarray(prompts, dtype=np.int64)
        self.completions_ = [np.asarray(data.completions_of(p), dtype=np.int64) for p in prompts]
        self.profiles_, self.social_orders_ = [], []
        self.voter_rewards_ = []
        bar = _stage_bar(len(prompts), "relabel prompts", self.verbose)
        for R in self._voter_rewards_iter([(int(p), None) for p in prompts], data):
            P = Profile.from_scores(R)
            self.voter_rewards_.append(R)
            self.profiles_.append(P)
            self.social_orders_.append(self._aggregate(P))
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
        self.margins_ = [P.margins() / float(self.n_voters) for P in self.profiles_]
        # 6. social model
        self.social_model_ = None if self.social is False else self._fit_social(data, seeds["social"])
        self.vocab_size_ = getattr(data, "vocab_size", None)
        return self

    def _fit_social(self, data: PreferenceData, seed: int) -> RewardModel:
        kw = {"random_state": seed, "n_threads": self.n_threads, "verbose": bool(self.verbose)}
        kw.update(self.social or {})
        rm = RewardModel(**kw)
        if self.rule == "random_ballot":
            # the lottery over ballots: every distinct voter ballot, weighted by its share
            prompts, comps, orders, weights = [], [], [], []
            for p, c, R in zip(self.prompts_, self.completions_, self.voter_rewards_):
                ranks = np.argsort(_voter_rankings(R), axis=1)
                uniq, counts = np.unique(ranks, axis=0, return_counts=True)
                for r, n in zip(uniq, counts):
                    prompts.append(p)
                    comps.append(c)
                    orders.append(r)
                    weights.append(n / float(self.n_voters))
            return rm.fit_orders(np.asarray(prompts), comps, orders, data, sample_weight=np.asarray(weights))
        return rm.fit_orders(self.prompts_, self.completions_, self.social_orders_, data)

    # ------------------------------------------------------------------ scoring and relabelling

    def score(self, prompts: Any, completions: Any, data: PreferenceData | None = None) -> np.ndarray:
        """Social rewards, batched.

        Parameters
        ----------
        prompts, completions : array-like
            Either ids (1-D ints, pairs by position) into the training tables (or ``data``'s), or
            new items: token rows [n, Lp] / [n, Lc] (int) or feature rows [n, Fp] / [n, Fc] (float),
            row i of ``prompts`` with row i of ``completions``.

        Returns
        -------
        ndarray of float32 [n]
        """
        check_is_fitted(self, "social_model_")
        if self.social_model_ is None:
            raise NotFittedError("score: this pipeline was fitted with social=False (no social reward model)")
        p = np.asarray(prompts)
        c = np.asarray(completions)
        if p.ndim == 1 and c.ndim == 1 and p.dtype.kind in "iu" and c.dtype.kind in "iu":
            return self.social_model_.score(p, c, data)
        if self.social_model_.mode_ == "tokens":
            return self.social_model_.score_tokens(p, c)
        return self.social_model_.score_features(p, c)

    def voter_rewards(self, prompt: Any, completions: Any = None, data: PreferenceData | None = None) -> np.ndarray:
        """Rewards ``[n_voters, m]`` of one prompt's completions under every simulated voter.

        One C call interprets the prompt and its completions once for all voters.
        """
        check_is_fitted(self, "voter_preferences_")
        return self.individual_.rewards(self.voter_preferences_, prompt, completions, data=data, decoded=True)

    def relabel(
        self,
        prompts: Any = None,
        completions: Any = None,
        *,
        data: PreferenceData | None = None,
        rule: str | Callable[..., Any] | None = None,
        rule_options: dict | None = None,
        return_profiles: bool = False,
    ) -> list[SocialOrder] | tuple[list[SocialOrder], list[Profile]]:
        """Social orders of new prompts' completions under the simulated voters.

        Parameters
        ----------
        prompts, completions :
            With ``data``: prompt ids (default: every prompt of ``data`` with ≥ 2 completions) and
            ignored ``completions`` (each prompt's own). Without: a table of K new prompts (token
            rows [K, Lp] or feature rows [K, Fp]) and their completions ([K, m, Lc] or [K, m, Fc],
            or a list of K arrays of rows).
        data : PreferenceData, optional
        rule, rule_options : optional
            Override the fitted rule.
        return_profiles : bool
            Also return the voters' score profiles.

        Returns
        -------
        list of SocialOrder (and list of Profile)
        """
        check_is_fitted(self, "voter_preferences_")
        items = self._relabel_items(prompts, completions, data)
        rule = self.rule if rule is None else rule
        opts = (self.rule_options or {}) if rule_options is None else rule_options
        orders, profiles = [], []
        bar = _stage_bar(len(items), "relabel", self.verbose and len(items) > 50)
        for R in self._voter_rewards_iter(items, data):
            P = Profile.from_scores(R)
            orders.append(aggregate(P, rule, **opts))
            if return_profiles:
                profiles.append(P)
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
        return (orders, profiles) if return_profiles else orders

    #: Voter × completion rewards per C call in feature mode. Measured (2,000 prompts × 8 × 1,000
    #: voters, 2 cores): 2^18 (~32 prompts per call) 1.33 s, 2^22 1.5-1.7 s (the reward block's
    #: per-completion table leaves the cache), one call per prompt 2.1 s.
    _BLOCK_FLOATS = 1 << 18

    def _voter_rewards_iter(self, items: list[tuple[Any, Any]], data: PreferenceData | None):
        """Rewards ``[n_voters, m_k]`` of each (prompt, completions) item, in order.

        Voters are decoded once, in :meth:`fit` (``voter_preferences_``). Token mode: one C call per
        prompt (the call interprets the prompt and its completions once for all voters). Feature
        mode: a completion's interpretation is a projection of its own features, independent of
        the prompt, so the completions of many prompts go through one C call, which saves the
        per-call set-up (tests/test_pipeline.py checks that both paths agree).
        """
        ind = self.individual_
        U = self.voter_preferences_
        if ind.config_["tokens"] or len(items) < 2:
            for p, c in items:
                yield ind.rewards(U, p, c, data=data, decoded=True)
            return
        cap = max(1, self._BLOCK_FLOATS // max(len(U), 1))
        k = 0
        while k < len(items):
            feats, sizes = [], []
            first_prompt = None
            while k < len(items) and (not sizes or sum(sizes) + self._n_items(items[k], data) <= cap):
                p, c = items[k]
                if data is not None:
                    comps = data.completions_of(int(p)) if c is None else np.asarray(c, np.int64).reshape(-1)
                    if c is not None and (data.completion_prompt[comps] != p).any():
                        raise ValueError(f"completions: some are not completions of prompt {p}")
                    pf, cf = data.prompt_features[int(p)], data.completion_features[comps]
                else:
                    pf, cf = np.asarray(p, np.float32), np.atleast_2d(np.asarray(c, np.float32))
                if not np.all(np.isfinite(pf)):
                    raise ValueError(f"prompts: prompt {k} has NaN or infinite features")
                if pf.shape != (ind.config_["prompt_feature_dim"],):
                    raise ValueError(f"prompts: prompt {k} has {pf.shape} features, expected "
                                     f"({ind.config_['prompt_feature_dim']},)")
                first_prompt = pf if first_prompt is None else first_prompt
                feats.append(cf)
                sizes.append(len(cf))
                k += 1
            R = ind.rewards(U, first_prompt, np.concatenate(feats, axis=0), decoded=True)
            start = 0
            for m in sizes:
                yield R[:, start:start + m]
                start += m

    @staticmethod
    def _n_items(item, data) -> int:
        p, c = item
        if c is not None:
            return len(c)
        return len(data.completions_of(int(p)))

    def _relabel_items(self, prompts, completions, data) -> list[tuple[Any, Any]]:
        if data is not None:
            if not isinstance(data, PreferenceData):
                raise TypeError(f"data: expected a socialrm.PreferenceData, got {type(data).__name__}")
            ids = range(data.n_prompts) if prompts is None else np.asarray(prompts, dtype=np.int64).reshape(-1)
            out = [(int(p), None) for p in ids if prompts is not None or len(data.completions_of(int(p))) >= 2]
            return out
        if prompts is None or completions is None:
            raise TypeError("prompts, completions: required when no data is given")
        P = np.asarray(prompts)
        if P.ndim != 2:
            raise ValueError(f"prompts: expected a 2-D table [K, Lp or Fp], got shape {P.shape}")
        if isinstance(completions, np.ndarray):
            if completions.ndim != 3 or completions.shape[0] != P.shape[0]:
                raise ValueError(f"completions: expected shape ({P.shape[0]}, m, L or F), got {completions.shape}")
        elif len(completions) != P.shape[0]:
            raise ValueError(f"completions: {len(completions)} entries for {P.shape[0]} prompts")
        return [(P[k], np.asarray(completions[k])) for k in range(P.shape[0])]

    # ------------------------------------------------------------------ disagreement

    def disagreement(
        self,
        rules: Sequence[str | Callable[..., Any]] = DEFAULT_REPORT_RULES,
        profiles: Sequence[Profile] | None = None,
    ) -> list[dict[str, Any]]:
        """How contested each prompt's social order is.

        Parameters
        ----------
        rules : sequence of rule names or callables
            The rules compared.
        profiles : sequence of Profile, optional
            Default: the fitted prompts' voter profiles (``profiles_``); or those from
            :meth:`relabel` (``return_profiles=True``).

        Returns
        -------
        list of dict, one per prompt, with ``margins`` ([m, m] margins as shares of the voters),
        ``top_share`` (share of voters whose top choice is the social order's top choice; a tied
        social top counts any of its members), ``orders`` (rule → SocialOrder), ``rules_disagree``
        (the rules' orders are not all equal) and ``n_distinct_orders``; with the fitted profiles
        also ``prompt`` and ``completions``.
        """
        check_is_fitted(self, "voter_latents_")
        fitted = profiles is None
        profs = self.profiles_ if fitted else list(profiles)
        report = []
        for k, P in enumerate(profs):
            social = self.social_orders_[k] if fitted else self._aggregate(P)
            w = np.asarray(P.weights, np.float64)
            total = max(float(w.sum()), 1e-300)
            entry: dict[str, Any] = {"margins": P.margins() / total}
            social_top = np.zeros(P.n_candidates, bool)
            social_top[[int(c) for c in social.tiers()[0]]] = True
            levels = np.asarray(P.levels)
            hits = ((levels == 0) & social_top[None, :]).any(axis=1)
            entry["top_share"] = float(w[hits].sum() / total)
            orders = {(r if isinstance(r, str) else getattr(r, "__name__", "callable")): aggregate(
                P, r, **(self.rule_options or {}) if r == self.rule else {}) for r in rules}
            keys = {tuple(np.asarray(o.ranks).tolist()) for o in orders.values()}
            entry.update(orders=orders, social_order=social, rules_disagree=len(keys) > 1, n_distinct_orders=len(keys))
            if fitted:
                entry["prompt"] = int(self.prompts_[k])
                entry["completions"] = self.completions_[k]
            report.append(entry)
        return report

    # ------------------------------------------------------------------ save / load

    def save(self, folder: str | os.PathLike) -> Path:
        """Save the fitted pipeline: a folder of safetensors files and ``manifest.json`` (written last)."""
        check_is_fitted(self, "social_model_")
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.individual_.save(folder / "individual.safetensors")
        self.social_model_.save(folder / "social.safetensors")
        d = self.density_
        dens = {k: np.asarray(getattr(d, k), np.float64) for k in ("weights_", "means_", "covariances_",
                                                                  "precisions_cholesky_")}
        save_safetensors(folder / "density.safetensors", dens, {"covariance_type": str(d.covariance_type)})
        stage = {"latents": self.latents_, "voter_latents": self.voter_latents_,
                 "voter_components": np.asarray(self.voter_components_, np.int64), "prompts": self.prompts_}
        for k, (c, o) in enumerate(zip(self.completions_, self.social_orders_)):
            stage[f"completions.{k}"] = np.asarray(c, np.int64)
            stage[f"ranks.{k}"] = np.asarray(o.ranks, np.int64)
            stage[f"voter_rewards.{k}"] = np.asarray(self.voter_rewards_[k], np.float32)
        save_safetensors(folder / "stages.safetensors", stage)
        params = {k: v for k, v in self.get_params().items() if k not in ("individual", "density")}
        if callable(params["rule"]) and not isinstance(params["rule"], str):
            params["rule"] = self._rule_name
            params["rule_callable"] = True
        content = {"kind": _FORMAT, "params": json.loads(json.dumps(params, default=str)),
                   "n_prompts": len(self.completions_), "vocab_size": self.vocab_size_}
        files = ["individual.safetensors", "social.safetensors", "density.safetensors", "stages.safetensors"]
        return write_manifest(folder, content, files)

    @classmethod
    def load(cls, folder: str | os.PathLike, rule: str | Callable[..., Any] | None = None) -> SocialChoiceRewardModel:
        """Load a pipeline written by :meth:`save` (files verified against the manifest).

        ``rule``: needed when the pipeline was fitted with a callable rule (callables are not saved).
        """
        folder = Path(folder)
        man = read_manifest(folder)
        if man.get("kind") != _FORMAT:
            raise ValueError(f"{os.fspath(folder)}: not a SocialChoiceRewardModel folder (kind {man.get('kind')!r})")
        params = dict(man["params"])
        if params.pop("rule_callable", False) and rule is None:
            raise ValueError("rule: this pipeline was fitted with a callable rule; pass it to load(rule=...)")
        if rule is not None:
            params["rule"] = rule
        self = cls(**params)
        self.individual_ = IndividualRewardModel.load(folder / "individual.safetensors")
        self.social_model_ = RewardModel.load(folder / "social.safetensors")
        dt, dmeta = load_safetensors(folder / "density.safetensors")
        g = GaussianMixture(n_components=dt["means_"].shape[0], covariance_type=dmeta["covariance_type"],
                            n_threads=self.n_threads)
        for k, v in dt.items():
            setattr(g, k, v)
        self.density_ = g
        st, _ = load_safetensors(folder / "stages.safetensors")
        self.latents_ = st["latents"]
        self.voter_latents_ = st["voter_latents"]
        self.voter_preferences_ = self.individual_.decode(self.voter_latents_)
        self.voter_components_ = st["voter_components"]
        self.prompts_ = st["prompts"]
        K = int(man["n_prompts"])
        self.completions_ = [st[f"completions.{k}"] for k in range(K)]
        self.voter_rewards_ = [st[f"voter_rewards.{k}"] for k in range(K)]
        self.profiles_ = [Profile.from_scores(R) for R in self.voter_rewards_]
        self.margins_ = [P.margins() / float(self.n_voters) for P in self.profiles_]
        self.social_orders_ = [SocialOrder(st[f"ranks.{k}"], rule=self._rule_name) for k in range(K)]
        self.vocab_size_ = man.get("vocab_size")
        return self
