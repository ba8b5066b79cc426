package incident

// Indicator is one of the department's vulnerability indicators.
type Indicator struct {
	ID   string
	Name string
}

// Indicators are the strategy's key vulnerability indicators, in its order.
// IDs are part of the API: never rename one.
var Indicators = []Indicator{
	{"age_identity_dispute", "Age or identity dispute"},
	{"historical_child_abuse", "Allegations of historical child abuse"},
	{"child_protection", "Child protection, risk to the child or child neglect"},
	{"disability", "Disability"},
	{"domestic_abuse", "Domestic abuse"},
	{"fgm", "Female genital mutilation (FGM)"},
	{"food_fluid_refusal", "Food or fluid refusal"},
	{"forced_marriage", "Forced marriage"},
	{"honour_based_abuse", "Honour-based abuse"},
	{"lgbti_under_18", "LGBTI (under 18)"},
	{"mental_health", "Mental health"},
	{"missing_adult_child", "Missing adult or child"},
	{"national_security_threat", "National security threat"},
	{"homelessness", "Homelessness"},
	{"physical_health", "Physical health"},
	{"modern_slavery_victim", "Potential victim of modern slavery"},
	{"pregnancy", "Pregnancy"},
	{"proof_of_kinship", "Proof of kinship"},
	{"suicide_self_harm_level_1", "Suicide and self-harm level 1"},
	{"suicide_self_harm_level_2", "Suicide and self-harm level 2"},
	{"suicide_self_harm_level_3", "Suicide and self-harm level 3"},
	{"unaccompanied_minor", "Unaccompanied minor"},
	{"victim_of_assault", "Victim of assault"},
	{"victim_of_hate_crime", "Victim of hate crime"},
	{"victim_of_torture", "Victim of torture"},
	{"violent_disruptive_behaviour", "Violent or disruptive behaviour"},
	{"vulnerable_to_radicalisation", "Vulnerable to radicalisation"},
}

var indicatorNames = func() map[string]string {
	m := make(map[string]string, len(Indicators))
	for _, i := range Indicators {
		m[i.ID] = i.Name
	}
	return m
}()

// IndicatorName is an indicator as people read it, or "" if there is none.
func IndicatorName(id string) string { return indicatorNames[id] }

// Agency is somewhere a partner refers a customer on to.
type Agency struct {
	ID   string
	Name string
}

// Agencies are the referrals the department expects partners to consider.
var Agencies = []Agency{
	{"police", "Police"},
	{"adult_social_care", "Adult social care"},
	{"childrens_social_care", "Children's social care"},
	{"nrm", "National Referral Mechanism"},
	{"prevent", "Prevent"},
	{"health_services", "Health services"},
}

var agencyNames = func() map[string]string {
	m := make(map[string]string, len(Agencies))
	for _, a := range Agencies {
		m[a.ID] = a.Name
	}
	return m
}()

// AgencyName is an agency as people read it, or "" if there is none.
func AgencyName(id string) string { return agencyNames[id] }

// Age groups of the customer.
const (
	Child = "child"
	Adult = "adult"
)
