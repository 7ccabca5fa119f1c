"""The station catalogue of the synthetic dataset: real cities, invented stations.

Coordinates are those of the real city centres (stations are spread a few kilometres
around them). Polish cities are many on purpose: the study's maps are of PM10 in Poland.
Sources differ the way OpenAQ's did: some report gases in ppm, some in µg/m³, some lack
a city or coordinates, and a few locations are reported by two sources in both units.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

# country, city, latitude, longitude, stations, pollution level, UTC offset, source, units
# units: "ug" all µg/m³; "ppm" gases in ppm; "both" a second source reports the gases in ppm.
CITIES: tuple[tuple[str, str, float, float, int, float, int, str, str], ...] = (
    ("PL", "Warszawa", 52.2297, 21.0122, 4, 1.3, 1, "GIOS", "ug"),
    ("PL", "Kraków", 50.0647, 19.9450, 4, 2.0, 1, "GIOS", "both"),
    ("PL", "Wrocław", 51.1079, 17.0385, 3, 1.5, 1, "GIOS", "ug"),
    ("PL", "Gdańsk", 54.3520, 18.6466, 2, 0.9, 1, "GIOS", "ug"),
    ("PL", "Łódź", 51.7592, 19.4560, 3, 1.5, 1, "GIOS", "ug"),
    ("PL", "Poznań", 52.4064, 16.9252, 2, 1.2, 1, "GIOS", "ug"),
    ("PL", "Katowice", 50.2649, 19.0238, 3, 2.0, 1, "GIOS", "ug"),
    ("PL", "Lublin", 51.2465, 22.5684, 2, 1.2, 1, "GIOS", "ug"),
    ("PL", "Szczecin", 53.4285, 14.5528, 2, 1.0, 1, "GIOS", "ug"),
    ("PL", "Bydgoszcz", 53.1235, 18.0084, 1, 1.1, 1, "GIOS", "ug"),
    ("PL", "Białystok", 53.1325, 23.1688, 1, 0.9, 1, "GIOS", "ug"),
    ("PL", "Gdynia", 54.5189, 18.5305, 1, 0.8, 1, "GIOS", "ug"),
    ("PL", "Częstochowa", 50.8118, 19.1203, 1, 1.6, 1, "GIOS", "ug"),
    ("PL", "Radom", 51.4027, 21.1471, 1, 1.3, 1, "GIOS", "ug"),
    ("PL", "Sosnowiec", 50.2863, 19.1041, 1, 1.9, 1, "GIOS", "ug"),
    ("PL", "Toruń", 53.0138, 18.5984, 1, 1.0, 1, "GIOS", "ug"),
    ("PL", "Kielce", 50.8661, 20.6286, 1, 1.3, 1, "GIOS", "ug"),
    ("PL", "Rzeszów", 50.0412, 21.9991, 1, 1.4, 1, "GIOS", "ug"),
    ("PL", "Gliwice", 50.2945, 18.6714, 1, 1.8, 1, "GIOS", "ug"),
    ("PL", "Zabrze", 50.3249, 18.7857, 1, 1.8, 1, "GIOS", "ug"),
    ("PL", "Olsztyn", 53.7784, 20.4801, 1, 0.8, 1, "GIOS", "ug"),
    ("PL", "Bielsko-Biała", 49.8224, 19.0584, 1, 1.7, 1, "GIOS", "ug"),
    ("PL", "Bytom", 50.3483, 18.9157, 1, 1.8, 1, "GIOS", "ug"),
    ("PL", "Zielona Góra", 51.9356, 15.5062, 1, 1.0, 1, "GIOS", "ug"),
    ("PL", "Rybnik", 50.1022, 18.5463, 1, 2.2, 1, "GIOS", "ug"),
    ("PL", "Opole", 50.6751, 17.9213, 1, 1.3, 1, "GIOS", "ug"),
    ("PL", "Tychy", 50.1372, 18.9664, 1, 1.7, 1, "GIOS", "ug"),
    ("PL", "Płock", 52.5463, 19.7065, 1, 1.2, 1, "GIOS", "ug"),
    ("PL", "Elbląg", 54.1561, 19.4045, 1, 0.9, 1, "GIOS", "ug"),
    ("PL", "Wałbrzych", 50.7714, 16.2843, 1, 1.5, 1, "GIOS", "ug"),
    ("PL", "Tarnów", 50.0121, 20.9858, 1, 1.6, 1, "GIOS", "ug"),
    ("PL", "Koszalin", 54.1944, 16.1722, 1, 0.8, 1, "GIOS", "ug"),
    ("PL", "Kalisz", 51.7611, 18.0910, 1, 1.2, 1, "GIOS", "ug"),
    ("PL", "Legnica", 51.2070, 16.1553, 1, 1.3, 1, "GIOS", "ug"),
    ("PL", "Nowy Sącz", 49.6218, 20.6970, 1, 1.9, 1, "GIOS", "ug"),
    ("PL", "Zakopane", 49.2992, 19.9496, 1, 1.6, 1, "GIOS", "ug"),
    ("PL", "Suwałki", 54.1115, 22.9309, 1, 0.7, 1, "GIOS", "ug"),
    ("DE", "Berlin", 52.5200, 13.4050, 3, 0.9, 1, "Umweltbundesamt", "ug"),
    ("DE", "München", 48.1351, 11.5820, 2, 0.8, 1, "Umweltbundesamt", "ug"),
    ("FR", "Paris", 48.8566, 2.3522, 3, 1.0, 1, "EEA France", "ug"),
    ("GB", "London", 51.5074, -0.1278, 3, 1.0, 0, "DEFRA", "ug"),
    ("ES", "Madrid", 40.4168, -3.7038, 2, 0.9, 1, "EEA Spain", "ug"),
    ("IT", "Milano", 45.4642, 9.1900, 2, 1.4, 1, "EEA Italy", "ug"),
    ("NL", "Amsterdam", 52.3676, 4.9041, 2, 0.8, 1, "RIVM", "ug"),
    ("BE", "Bruxelles", 50.8503, 4.3517, 2, 0.9, 1, "EEA Belgium", "ug"),
    ("CZ", "Praha", 50.0755, 14.4378, 2, 1.1, 1, "EEA Czech Republic", "ug"),
    ("CZ", "Ostrava", 49.8209, 18.2625, 2, 1.9, 1, "EEA Czech Republic", "ug"),
    ("SK", "Bratislava", 48.1486, 17.1077, 1, 1.1, 1, "EEA Slovakia", "ug"),
    ("HU", "Budapest", 47.4979, 19.0402, 2, 1.2, 1, "EEA Hungary", "ug"),
    ("AT", "Wien", 48.2082, 16.3738, 2, 0.9, 1, "EEA Austria", "ug"),
    ("CH", "Zürich", 47.3769, 8.5417, 1, 0.7, 1, "EEA Switzerland", "ug"),
    ("SE", "Stockholm", 59.3293, 18.0686, 1, 0.5, 1, "EEA Sweden", "ug"),
    ("NO", "Oslo", 59.9139, 10.7522, 1, 0.6, 1, "Norwegian Institute for Air Research", "ug"),
    ("FI", "Helsinki", 60.1699, 24.9384, 1, 0.5, 2, "EEA Finland", "ug"),
    ("DK", "København", 55.6761, 12.5683, 1, 0.6, 1, "EEA Denmark", "ug"),
    ("PT", "Lisboa", 38.7223, -9.1393, 1, 0.7, 0, "EEA Portugal", "ug"),
    ("LT", "Vilnius", 54.6872, 25.2797, 1, 0.8, 2, "EEA Lithuania", "ug"),
    ("UA", "Київ", 50.4501, 30.5234, 1, 1.3, 2, "SaveEcoBot", "ug"),
    ("RU", "Москва", 55.7558, 37.6173, 1, 1.1, 3, "StateAir_Moscow", "ug"),
    ("TR", "Ankara", 39.9334, 32.8597, 1, 1.4, 3, "Turkiye", "ug"),
    ("US", "Los Angeles-Long Beach-Santa Ana", 34.0522, -118.2437, 3, 1.0, -8, "AirNow", "ppm"),
    ("US", "New York-Northern New Jersey-Long Island", 40.7128, -74.0060, 2, 0.8, -5, "AirNow", "ppm"),
    ("CA", "Toronto", 43.6532, -79.3832, 1, 0.7, -5, "Environment Canada", "ppm"),
    ("MX", "Ciudad de México", 19.4326, -99.1332, 2, 1.5, -6, "Sinaica", "ppm"),
    ("BR", "São Paulo", -23.5505, -46.6333, 2, 1.2, -3, "CETESB", "ug"),
    ("CL", "Santiago", -33.4489, -70.6693, 2, 1.5, -4, "Chile - SINCA", "ug"),
    ("CO", "Bogotá", 4.7110, -74.0721, 1, 1.3, -5, "Bogota", "ug"),
    ("PE", "Lima", -12.0464, -77.0428, 1, 1.5, -5, "Peru", "ug"),
    ("IN", "Delhi", 28.6139, 77.2090, 3, 4.0, 5, "CPCB", "ug"),
    ("IN", "Mumbai", 19.0760, 72.8777, 2, 2.5, 5, "CPCB", "ug"),
    ("CN", "Beijing", 39.9042, 116.4074, 2, 3.0, 8, "ChinaAQIData", "ug"),
    ("MN", "Ulaanbaatar", 47.8864, 106.9057, 1, 4.5, 8, "Agaar.mn", "ug"),
    ("TH", "Bangkok", 13.7563, 100.5018, 1, 1.6, 7, "Thailand", "ug"),
    ("VN", "Hà Nội", 21.0278, 105.8342, 1, 2.2, 7, "StateAir_Hanoi", "ug"),
    ("KR", "Seoul", 37.5665, 126.9780, 1, 1.3, 9, "Korea Air Quality Data", "ug"),
    ("AU", "Sydney", -33.8688, 151.2093, 2, 0.5, 10, "Australia - New South Wales", "ug"),
    ("ZA", "Johannesburg", -26.2041, 28.0473, 1, 1.5, 2, "South Africa", "ug"),
    ("NG", "Lagos", 6.5244, 3.3792, 1, 2.5, 1, "StateAir_Lagos", "ug"),
    ("IL", "Tel Aviv", 32.0853, 34.7818, 1, 1.0, 2, "Israel", "ug"),
)

# Typical µg/m³ levels (urban background), and µg/m³ per ppm at 25 °C.
PARAMETERS: dict[str, float] = {"pm25": 15.0, "pm10": 25.0, "no2": 30.0, "o3": 55.0, "so2": 8.0, "co": 450.0, "bc": 2.0}
UG_PER_PPM: dict[str, float] = {"no2": 1880.0, "o3": 1960.0, "so2": 2620.0, "co": 1145.0}
GASES = tuple(UG_PER_PPM)
SMOG_REGION = ("PL", 51.3)  # southern Poland (below this latitude), plus Ostrava, smogs in winter


@dataclass(frozen=True)
class Series:
    """One parameter of one station as one source reports it: a line an hour."""

    station: int
    country: str
    city: str | None
    latitude: float | None
    longitude: float | None
    location: str
    source: str
    parameter: str
    unit: str
    utc_offset: int
    level: float
    smog: bool
    decimals: int

    def tail(self) -> str:
        """Everything after the value, as OpenAQ's fetcher wrote it."""
        rec: dict[str, object] = {
            "unit": self.unit,
            "averagingPeriod": {"value": 1, "unit": "hours"},
            "location": self.location,
        }
        if self.city is not None:
            rec["city"] = self.city
        rec["country"] = self.country
        if self.latitude is not None:
            rec["coordinates"] = {"latitude": self.latitude, "longitude": self.longitude}
        rec["attribution"] = [{"name": self.source}]
        rec["sourceName"] = self.source
        rec["sourceType"] = "government"
        rec["mobile"] = False
        return "," + json.dumps(rec, ensure_ascii=False, separators=(",", ":"))[1:] + "\n"


def build_series(n_stations: int | None = None) -> list[Series]:
    """The catalogue as series; the same for every data seed.

    ``n_stations`` below the catalogue's size keeps a subset (two thirds Polish, for the
    maps); above it, more stations are placed around the same cities, so that 50 GB can
    cover a realistic period rather than decades.
    """
    rng = np.random.default_rng(20180101)
    base = []
    for country, city, lat, lon, n, level, tz, source, units in CITIES:
        for i in range(n):
            base.append((country, city, lat, lon, i, level, tz, source, units))
    n_stations = len(base) if n_stations is None else max(1, n_stations)
    if n_stations <= len(base):
        polish = [s for s in base if s[0] == "PL"]
        others = [s for s in base if s[0] != "PL"]
        keep_pl = min(len(polish), max(1, n_stations * 2 // 3))
        chosen = polish[:keep_pl] + others[: n_stations - keep_pl]
    else:
        chosen = [base[k % len(base)] for k in range(n_stations)]
    series: list[Series] = []
    for index, (country, city, lat, lon, i, level, tz, source, units) in enumerate(chosen):
        r = rng.random(10)
        copy = index // len(base)
        lat_s = round(lat + (r[0] - 0.5) * 0.08, 6)
        lon_s = round(lon + (r[1] - 0.5) * 0.12, 6)
        location = f"{city} {['Centrum', 'Północ', 'Południe', 'Wschód'][i]}" if country == "PL" else f"{city} #{i + 1}"
        if copy:
            location += f" {copy + 1}"
        no_city = r[2] < 0.08 or country == "IN"  # OpenAQ had sources without a city
        no_coords = r[3] < 0.05
        params = ["pm25", "pm10"] + [g for j, g in enumerate(GASES) if r[4 + j] < 0.55]
        if r[2] > 0.8:
            params.append("bc")
        smog = (country == SMOG_REGION[0] and lat < SMOG_REGION[1]) or city == "Ostrava"
        common = dict(
            station=index,
            country=country,
            city=None if no_city else city,
            latitude=None if no_coords else lat_s,
            longitude=None if no_coords else lon_s,
            utc_offset=tz,
            level=level * (0.8 + 0.4 * r[8]),
            smog=smog,
        )
        for p in params:
            ppm = p in GASES and units == "ppm"
            unit, decimals = ("ppm", 4) if ppm else ("µg/m³", 1)
            series.append(Series(location=location, source=source, parameter=p, unit=unit, decimals=decimals, **common))
            if p in GASES and units == "both" and i == 0:
                # a second source reporting the same gas at the same place, in ppm
                series.append(Series(location=location, source="AirNow", parameter=p, unit="ppm", decimals=4, **common))
    return series
