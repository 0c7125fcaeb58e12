"""A small, deterministic synthetic employer: agents, sites, working days, and what tools record of them.

Everything comes from one ``random.Random(seed)``, so the same seed gives the same exports byte for
byte. The days cover the spring clock change (last Sunday of March), agents keep realistic hours
(arrival around 08:30, lunch, departure around 17:15) and a few events fall outside them — evenings,
a Saturday — because that is what audits look for.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from auditor.io.times import localize, zone

PARIS = zone("Europe/Paris")
START = date(2026, 3, 25)  # a Wednesday; the clock change is on Sunday 29 March 2026

FIRST_NAMES = ("Amélie", "Benoît", "Céline", "Damien", "Élodie", "François", "Gaëlle", "Hélène", "Inès", "Jérôme",
               "Karima", "Loïc", "Maëlle", "Noël", "Océane", "Pascal", "Quentin", "Rosalie", "Sébastien", "Thérèse",
               "Ugo", "Valérie", "Wassim", "Yasmine", "Zoé")
LAST_NAMES = ("Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Girard", "Roux", "Fournier", "Mercier", "Boyer",
              "Garnier", "Chevalier", "François", "Legrand", "Gauthier", "Perrin", "Robin", "Clément", "Morel",
              "Faure", "Rousseau", "Blanc", "Guérin", "Muller", "Henry", "Roussel", "N'Diaye", "Lemaître")
SITES = (
    ("CCAS Lyon 3e", 45.7597, 4.8422),
    ("MDS Villeurbanne", 45.7719, 4.8902),
    ("Maison des solidarités Vénissieux", 45.6975, 4.8867),
)
MOTIVES = ("RSA – accompagnement", "Aide sociale à l’enfance", "APA – évaluation", "Logement – FSL",
           "Accès aux droits", "Surendettement", "Protection de l’enfance", "Insertion professionnelle")
STATUSES = ("honoré", "honoré", "honoré", "honoré", "annulé", "absent")
SERVICES = ("Accueil", "Aides financières", "Domiciliation", "Rendez-vous social")
OUTCOMES = ("servi", "servi", "servi", "servi", "absent", "transféré")
DOMAINS = (
    ("www.service-public.fr", "/particuliers/vosdroits/F2313"), ("www.caf.fr", "/allocataires/mon-compte"),
    ("www.ameli.fr", "/assure/remboursements"), ("intranet.departement.local", "/annuaire"),
    ("www.legifrance.gouv.fr", "/codes/article_lc/LEGIARTI000031"), ("mail.departement.local", "/owa/"),
    ("www.doctolib.fr", "/medecin-generaliste/lyon"), ("www.indeed.fr", "/emplois?q=assistante+sociale"),
    ("www.cfdt.fr", "/portail/actualites"), ("www.leboncoin.fr", "/recherche?category=10"),
    ("www.lemonde.fr", "/societe/"), ("fonts.googleapis.com", "/css2"),
)
ACTS = ("Aide à la toilette", "Préparation du repas", "Courses", "Aide au lever", "Entretien du logement",
        "Aide à la prise des médicaments")
CASE_ACTIONS = ("Entretien", "Visite à domicile", "Appel téléphonique", "Rédaction de rapport", "Orientation",
                "Demande d'aide financière")
COMMENTS = ("Situation stable, prochain rendez-vous dans un mois.", "Dossier complet, transmis à la commission.",
            "Usager absent au rendez-vous, relance par courrier.", "Difficultés de logement, orientation FSL.",
            "Besoin d'un accompagnement budgétaire.", "")
PERSONS = ("M. Durand", "Mme Petit", "M. Lambert", "Mme Bonnet", "M. Dupuis", "Mme Fontaine", "M. Rivière",
           "Mme Caron", "M. Barbier", "Mme Colin", "M. Arnaud", "Mme Giraud")


def ascii_login(first: str, last: str) -> str:
    plain = unicodedata.normalize("NFKD", f"{first[0]}{last}").encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


@dataclass(frozen=True)
class Agent:
    login: str
    name: str
    matricule: str
    site: str
    home: tuple[float, float]
    mobile: bool  # home-care or outreach: carries a tracked phone


@dataclass
class Shift:
    agent: Agent
    day: date
    arrive: datetime
    lunch_out: datetime
    lunch_in: datetime
    leave: datetime


@dataclass
class World:
    seed: int = 7
    agents_count: int = 6
    days: int = 10
    start: date = START
    rng: random.Random = field(init=False)
    agents: list[Agent] = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        names: set[str] = set()
        self.agents = []
        capacity = len(FIRST_NAMES) * len(LAST_NAMES)
        while len(self.agents) < self.agents_count:
            first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
            if f"{first} {last}" in names and len(names) < capacity:
                continue  # redraw while unused name pairs remain (keeps small worlds as they were)
            if f"{first} {last}" in names:  # every pair taken: a namesake, told apart by a number
                last = f"{last}{sum(1 for n in names if n.startswith(f'{first} {last}')) + 1}"
            names.add(f"{first} {last}")
            site = SITES[len(self.agents) % len(SITES)]
            home = (site[1] + self.rng.uniform(-0.06, 0.06), site[2] + self.rng.uniform(-0.08, 0.08))
            self.agents.append(Agent(
                login=ascii_login(first, last), name=f"{first} {last}",
                matricule=f"{self.rng.randint(1000, 99999):06d}", site=site[0], home=home,
                mobile=len(self.agents) % 2 == 0,
            ))

    # --- time helpers ---------------------------------------------------------------------------
    def local(self, day: date, hour: float) -> datetime:
        """Aware UTC instant of a local wall-clock hour (fractional hours) on ``day``."""
        seconds = round(hour * 3600)
        naive = datetime.combine(day, time()) + timedelta(seconds=seconds)
        return localize(naive, PARIS)

    def working_days(self) -> list[date]:
        days = [self.start + timedelta(days=i) for i in range(self.days)]
        return [d for d in days if d.weekday() < 5]

    def all_days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]

    def shifts(self) -> list[Shift]:
        rng = random.Random(self.seed * 31 + 1)
        shifts = []
        for agent in self.agents:
            for day in self.working_days():
                arrive = rng.gauss(8.5, 0.25)
                lunch = rng.uniform(11.9, 12.6)
                shifts.append(Shift(agent, day, self.local(day, arrive), self.local(day, lunch),
                                    self.local(day, lunch + rng.uniform(0.6, 1.2)),
                                    self.local(day, rng.gauss(17.25, 0.35))))
        return shifts

    def site_of(self, agent: Agent) -> tuple[str, float, float]:
        return next(s for s in SITES if s[0] == agent.site)

    def policy(self) -> dict[str, Any]:
        """The employer's declaration for this world: default hours, and who is who across the tools."""
        return {
            "schema_version": 1,
            "organisation": "Département fictif (données de démonstration)",
            "identity": [
                {"person": a.name, "ids": {"*": [a.login, a.matricule, f"{a.login}@departement69.fr"]}}
                for a in self.agents
            ],
        }

    # --- canonical rows per kind ------------------------------------------------------------------
    def rows(self, kind: str) -> list[dict[str, Any]]:
        return list(getattr(self, f"_{kind}")())

    def _appointments(self) -> list[dict[str, Any]]:
        rng = random.Random(self.seed * 31 + 2)
        rows = []
        for shift in self.shifts():
            cursor = shift.arrive + timedelta(minutes=rng.choice((15, 30, 45)))
            while cursor + timedelta(hours=1) < shift.leave:
                if shift.lunch_out - timedelta(minutes=45) < cursor < shift.lunch_in:
                    cursor = shift.lunch_in + timedelta(minutes=15)
                    continue
                length = timedelta(minutes=rng.choice((30, 45, 60)))
                start = cursor.replace(minute=cursor.minute // 15 * 15, second=0, microsecond=0)
                rows.append({
                    "agent": shift.agent.login, "start": start, "end": start + length, "all_day": False,
                    "category": rng.choice(MOTIVES), "subject": "Entretien", "person_received": rng.choice(PERSONS),
                    "site": shift.agent.site, "created_by": rng.choice((shift.agent.login, "accueil")),
                    "created_at": (start - timedelta(days=rng.randint(1, 20))).replace(second=0),
                    "status": rng.choice(STATUSES),
                })
                cursor = start + length + timedelta(minutes=rng.choice((0, 15, 30, 45, 60)))
        return rows

    def _queue_tickets(self) -> list[dict[str, Any]]:
        rng = random.Random(self.seed * 31 + 3)
        rows = []
        number = 0
        for day in self.working_days():
            for site, _lat, _lon in SITES:
                staff = [a for a in self.agents if a.site == site] or self.agents
                for _ in range(rng.randint(18, 30)):
                    number += 1
                    issued = self.local(day, rng.uniform(8.75, 16.5)).replace(second=0)
                    waiting = rng.randint(0, 50) * 60
                    outcome = rng.choice(OUTCOMES)
                    called = issued + timedelta(seconds=waiting)
                    served = outcome != "absent"
                    rows.append({
                        "ticket": f"{site[:3].upper()}-{number:05d}",
                        "agent": rng.choice(staff).login if served else None,
                        "site": site, "service": rng.choice(SERVICES), "issued_at": issued,
                        "called_at": called, "served_start": called if served else None,
                        "served_end": called + timedelta(minutes=rng.randint(4, 35)) if served else None,
                        "waiting_s": float(waiting), "desk": f"Guichet {rng.randint(1, 4)}",
                        "customer": rng.choice(PERSONS), "outcome": outcome,
                    })
        return rows

    def _positions(self) -> list[dict[str, Any]]:
        rng = random.Random(self.seed * 31 + 4)
        rows = []
        for shift in self.shifts():
            agent = shift.agent
            if not agent.mobile:
                continue
            _site, lat, lon = self.site_of(agent)
            t = shift.arrive
            while t < shift.leave:
                lat += rng.gauss(0, 0.0015)
                lon += rng.gauss(0, 0.002)
                rows.append(self._fix(agent, t, lat, lon, rng))
                t += timedelta(seconds=rng.choice((60, 120, 300, 600)))
            evening = shift.leave + timedelta(hours=rng.uniform(2.5, 5))  # the phone keeps reporting at home
            for k in range(3):
                rows.append(self._fix(agent, evening + timedelta(minutes=20 * k), agent.home[0] + rng.gauss(0, 3e-4),
                                      agent.home[1] + rng.gauss(0, 3e-4), rng))
        rows.sort(key=lambda r: (r["agent"], r["time"]))
        return rows

    @staticmethod
    def _fix(agent: Agent, t: datetime, lat: float, lon: float, rng: random.Random) -> dict[str, Any]:
        return {
            "agent": agent.login, "device": f"TEL-{agent.matricule}", "time": t.replace(microsecond=0),
            "lat": round(lat, 6), "lon": round(lon, 6), "accuracy_m": float(rng.choice((5, 8, 12, 25, 65))),
            "altitude_m": None, "speed_mps": round(rng.uniform(0, 12), 1), "provider": rng.choice(("gps", "network")),
            "activity": None,
        }

    def _web_requests(self) -> list[dict[str, Any]]:
        rng = random.Random(self.seed * 31 + 5)
        rows: list[dict[str, Any]] = []
        for index, shift in enumerate(self.shifts()):
            agent = shift.agent
            ip = f"10.12.{self.agents.index(agent) + 1}.{20 + self.agents.index(agent)}"
            t = shift.arrive + timedelta(minutes=5)
            while t < shift.leave:
                host, path = rng.choice(DOMAINS)
                https = rng.random() < 0.35
                rows.append({
                    "agent": agent.login, "client_ip": ip, "time": t.replace(microsecond=t.microsecond // 1000 * 1000),
                    "duration_ms": rng.randint(15, 2500), "method": "CONNECT" if https else "GET",
                    "url": f"{host}:443" if https else f"http://{host}{path}", "domain": host,
                    "status": 200, "bytes": rng.randint(300, 250000), "category": None,
                    "action": rng.choice(("TCP_MISS", "TCP_TUNNEL" if https else "TCP_HIT")),
                    "user_agent": None, "referer": None,
                })
                t += timedelta(seconds=rng.randint(20, 900), milliseconds=rng.randint(0, 999))
            if index % 7 == 3:  # an evening connection from home through the VPN
                late = shift.leave + timedelta(hours=3, minutes=rng.randint(0, 50))
                rows.append({**rows[-1], "time": late, "url": "http://mail.departement.local/owa/",
                             "domain": "mail.departement.local", "method": "GET", "action": "TCP_MISS"})
        rows.sort(key=lambda r: r["time"])
        return rows

    def _activity_events(self) -> list[dict[str, Any]]:
        """Office-suite audit lines: sign-ins, documents opened, and the weekly Teams meeting."""
        rng = random.Random(self.seed * 31 + 6)
        rows: list[dict[str, Any]] = []
        for shift in self.shifts():
            agent = shift.agent
            upn = f"{agent.login}@departement69.fr"
            ip = f"10.12.{self.agents.index(agent) + 1}.{20 + self.agents.index(agent)}"
            base = {"agent": upn, "client_ip": ip, "device": None, "duration_s": None, "detail": None}
            rows.append({**base, "time": shift.arrive + timedelta(minutes=3), "application": "AzureActiveDirectory",
                         "action": "UserLoggedIn", "object": None})
            for _ in range(rng.randint(2, 6)):
                moment = shift.arrive + (shift.leave - shift.arrive) * rng.random()
                rows.append({**base, "time": moment.replace(microsecond=0), "application": "SharePoint",
                             "action": rng.choice(("FileAccessed", "FileModified", "FileDownloaded")),
                             "object": f"Dossiers/suivi-{rng.randint(100, 999)}.docx"})
            if shift.day.weekday() == 3:  # Thursday: the weekly team meeting
                join = self.local(shift.day, 10 + rng.uniform(-0.05, 0.1)).replace(microsecond=0)
                rows.append({**base, "time": join, "application": "MicrosoftTeams", "action": "meeting-attendance",
                             "object": "Point d’équipe hebdomadaire", "duration_s": float(rng.randint(1500, 3600))})
        rows.sort(key=lambda r: (r["time"], r["agent"]))
        return rows

    def _care_acts(self) -> list[dict[str, Any]]:
        """Home visits of the mobile agents: planned slots, actual times clocked with an NFC tag or the app."""
        rng = random.Random(self.seed * 31 + 7)
        rows: list[dict[str, Any]] = []
        for shift in self.shifts():
            if not shift.agent.mobile:
                continue
            planned = shift.arrive.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
            while planned + timedelta(hours=1) < shift.leave:
                if shift.lunch_out <= planned < shift.lunch_in:
                    planned = shift.lunch_in.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
                    continue
                start = planned + timedelta(minutes=rng.randint(-5, 15))
                end = start + timedelta(minutes=rng.choice((30, 45, 60)) + rng.randint(-5, 5))
                rows.append({
                    "agent": shift.agent.login, "person_cared_for": rng.choice(PERSONS),
                    "act": rng.choice(ACTS), "planned_start": planned, "planned_end": planned + timedelta(hours=1),
                    "start": start, "end": end, "recorded_at": None,
                    "method": rng.choice(("badge NFC", "application", "téléphone fixe")),
                    "device": f"TEL-{shift.agent.matricule}", "site": None, "lat": None, "lon": None,
                })
                planned += timedelta(hours=rng.choice((1, 2)))
        rows.sort(key=lambda r: (r["start"], r["agent"]))
        return rows

    def _case_actions(self) -> list[dict[str, Any]]:
        """Actions logged on social-work cases, with the free-text comments such trackers keep."""
        rng = random.Random(self.seed * 31 + 8)
        rows: list[dict[str, Any]] = []
        for shift in self.shifts():
            for _ in range(rng.randint(2, 5)):
                moment = shift.arrive + (shift.leave - shift.arrive) * rng.random()
                rows.append({
                    "agent": shift.agent.login, "case": f"D-{rng.randint(10000, 99999)}",
                    "action": rng.choice(CASE_ACTIONS), "time": moment.replace(second=0, microsecond=0),
                    "duration_s": float(rng.choice((300, 600, 900, 1800))), "comment": rng.choice(COMMENTS),
                })
        rows.sort(key=lambda r: (r["time"], r["agent"]))
        return rows

    def _clock_events(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for shift in self.shifts():
            for moment, direction in ((shift.arrive, "in"), (shift.lunch_out, "out"), (shift.lunch_in, "in"),
                                      (shift.leave, "out")):
                rows.append({"agent": shift.agent.matricule, "time": moment.replace(microsecond=0),
                             "direction": direction, "reader": f"Badgeuse {shift.agent.site}", "site": shift.agent.site,
                             "method": "badge", "automatic": False, "recorded_at": None,
                             "lat": None, "lon": None, "accuracy_m": None})
        rows.sort(key=lambda r: r["time"])
        return rows
