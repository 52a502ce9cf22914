package demo

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Who the customers are: where they live (countries with the shares a
// US-based online shop that ships abroad sees), their time zone and
// locale, a plausible name for the country, and identifiers that can never
// reach a real person: emails at example.com, .net and .org (reserved for
// documentation), phone numbers in North America's 555 area code, which no
// real line uses.

type zone struct {
	name   string // IANA
	weight float64
}

type country struct {
	code     string // ISO 3166-1 alpha-2
	share    float64
	locales  []string // the first is the most common
	zones    []zone
	names    *nameList
	taxRate  float64 // sales tax or VAT charged on the order's revenue
	domestic bool    // ships from the shop's own country
}

var countries = []country{
	{"US", 0.38, []string{"en-US", "es-US"}, []zone{{"America/New_York", 0.47}, {"America/Chicago", 0.29}, {"America/Denver", 0.07}, {"America/Los_Angeles", 0.17}}, &englishNames, 0.07, true},
	{"GB", 0.12, []string{"en-GB"}, []zone{{"Europe/London", 1}}, &englishNames, 0.20, false},
	{"DE", 0.09, []string{"de-DE"}, []zone{{"Europe/Berlin", 1}}, &germanNames, 0.19, false},
	{"CA", 0.08, []string{"en-CA", "fr-CA"}, []zone{{"America/Toronto", 0.6}, {"America/Vancouver", 0.25}, {"America/Edmonton", 0.15}}, &englishNames, 0.13, false},
	{"AU", 0.07, []string{"en-AU"}, []zone{{"Australia/Sydney", 0.45}, {"Australia/Melbourne", 0.3}, {"Australia/Brisbane", 0.15}, {"Australia/Perth", 0.1}}, &englishNames, 0.10, false},
	{"FR", 0.07, []string{"fr-FR"}, []zone{{"Europe/Paris", 1}}, &frenchNames, 0.20, false},
	{"NL", 0.05, []string{"nl-NL"}, []zone{{"Europe/Amsterdam", 1}}, &dutchNames, 0.21, false},
	{"ES", 0.04, []string{"es-ES"}, []zone{{"Europe/Madrid", 1}}, &spanishNames, 0.21, false},
	{"IT", 0.04, []string{"it-IT"}, []zone{{"Europe/Rome", 1}}, &italianNames, 0.22, false},
	{"SE", 0.03, []string{"sv-SE"}, []zone{{"Europe/Stockholm", 1}}, &swedishNames, 0.25, false},
	{"IE", 0.02, []string{"en-IE"}, []zone{{"Europe/Dublin", 1}}, &englishNames, 0.23, false},
	{"NZ", 0.01, []string{"en-NZ"}, []zone{{"Pacific/Auckland", 1}}, &englishNames, 0.15, false},
}

type nameList struct{ first, last []string }

var (
	englishNames = nameList{
		[]string{"Olivia", "Emma", "Charlotte", "Amelia", "Sophia", "Mia", "Isabella", "Ava", "Grace", "Chloe", "Emily", "Hannah", "Lucy", "Ella",
			"Liam", "Noah", "Oliver", "James", "William", "Benjamin", "Lucas", "Henry", "Jack", "Thomas", "Daniel", "Samuel", "Ethan", "Matthew"},
		[]string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Martin",
			"Jackson", "Thompson", "White", "Harris", "Clark", "Lewis", "Walker", "Hall", "Young", "King", "Wright", "Scott", "Green", "Baker", "Evans"},
	}
	germanNames = nameList{
		[]string{"Emilia", "Hannah", "Lea", "Mia", "Sophie", "Marie", "Lena", "Anna", "Clara", "Greta", "Lukas", "Leon", "Finn", "Paul", "Jonas",
			"Felix", "Maximilian", "Elias", "Jan", "Moritz"},
		[]string{"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann", "Koch", "Richter",
			"Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Braun"},
	}
	frenchNames = nameList{
		[]string{"Camille", "Léa", "Manon", "Chloé", "Inès", "Jade", "Louise", "Zoé", "Alice", "Lucie", "Hugo", "Louis", "Gabriel", "Arthur",
			"Jules", "Raphaël", "Théo", "Nathan", "Mathis", "Étienne"},
		[]string{"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon", "Laurent",
			"Lefèvre", "Michel", "Garcia", "Fournier", "Girard", "Bonnet"},
	}
	dutchNames = nameList{
		[]string{"Emma", "Julia", "Sophie", "Tess", "Fenna", "Sara", "Anna", "Noor", "Daan", "Sem", "Lucas", "Levi", "Finn", "Bram", "Thijs", "Ruben"},
		[]string{"de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser", "Smit", "Meijer", "de Boer", "Mulder",
			"de Groot", "Bos", "Vos", "Peters"},
	}
	spanishNames = nameList{
		[]string{"Lucía", "Sofía", "Martina", "María", "Paula", "Julia", "Valeria", "Carmen", "Hugo", "Martín", "Pablo", "Daniel", "Alejandro",
			"Álvaro", "Javier", "Diego"},
		[]string{"García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Martín", "Jiménez",
			"Ruiz", "Hernández", "Díaz", "Moreno", "Romero"},
	}
	italianNames = nameList{
		[]string{"Sofia", "Giulia", "Aurora", "Alice", "Ginevra", "Emma", "Giorgia", "Chiara", "Leonardo", "Francesco", "Alessandro", "Lorenzo",
			"Mattia", "Tommaso", "Riccardo", "Marco"},
		[]string{"Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Bruno", "Gallo",
			"Conti", "De Luca", "Costa", "Giordano"},
	}
	swedishNames = nameList{
		[]string{"Alice", "Maja", "Elsa", "Astrid", "Wilma", "Freja", "Ebba", "Saga", "William", "Oscar", "Hugo", "Elias", "Axel", "Lucas",
			"Nils", "Erik"},
		[]string{"Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson", "Svensson", "Gustafsson",
			"Pettersson", "Jonsson", "Lindberg", "Lindqvist", "Berg", "Holm"},
	}
)

// userAgents are the browsers people shop with, phones first.
var userAgents = []struct {
	ua     string
	weight float64
}{
	{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1", 0.33},
	{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36", 0.25},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", 0.20},
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15", 0.17},
	{"Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1", 0.05},
}

var emailDomains = []string{"example.com", "example.net", "example.org"}

// drawCountry picks a country by its share of customers.
func drawCountry(rng *rand.Rand) *country {
	u := rng.Float64()
	for i := range countries {
		u -= countries[i].share
		if u < 0 {
			return &countries[i]
		}
	}
	return &countries[0]
}

// drawZone picks one of the country's time zones by population.
func drawZone(rng *rand.Rand, c *country) string {
	u := rng.Float64()
	for _, z := range c.zones {
		u -= z.weight
		if u < 0 {
			return z.name
		}
	}
	return c.zones[0].name
}

func drawLocale(rng *rand.Rand, c *country) string {
	if len(c.locales) > 1 && rng.Float64() < 0.2 {
		return c.locales[1]
	}
	return c.locales[0]
}

func drawUserAgent(rng *rand.Rand) string {
	u := rng.Float64()
	for _, a := range userAgents {
		u -= a.weight
		if u < 0 {
			return a.ua
		}
	}
	return userAgents[0].ua
}

// email makes a unique address for customer idx: the index makes it
// unique, the shapes vary as people's addresses do.
func email(rng *rand.Rand, first, last string, idx int) string {
	f, l := ascii(first), ascii(last)
	n := strconv.Itoa(idx)
	var local string
	switch rng.IntN(4) {
	case 0:
		local = f + "." + l + n
	case 1:
		local = f[:1] + l + n
	case 2:
		local = f + "_" + l + "+" + n
	default:
		local = l + "." + f + n
	}
	return local + "@" + emailDomains[rng.IntN(len(emailDomains))]
}

// ascii lower-cases a name and folds it to the letters an email address
// would use ("Müller" -> "muller", "de Jong" -> "dejong").
func ascii(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteRune(r)
		case strings.ContainsRune("àáâä", r):
			b.WriteByte('a')
		case strings.ContainsRune("èéêë", r):
			b.WriteByte('e')
		case strings.ContainsRune("ìíîï", r):
			b.WriteByte('i')
		case strings.ContainsRune("òóôö", r):
			b.WriteByte('o')
		case strings.ContainsRune("ùúûü", r):
			b.WriteByte('u')
		case r == 'ñ':
			b.WriteByte('n')
		case r == 'ç':
			b.WriteByte('c')
		}
	}
	if b.Len() == 0 {
		return "x"
	}
	return b.String()
}

// phone returns a unique number for customer idx in the 555 area code.
func phone(idx int) string {
	n := strconv.Itoa(1_000_000 + idx%9_000_000)
	return "+1555" + n[len(n)-7:]
}

// gamma draws from a Gamma distribution with the given shape and mean
// (Marsaglia and Tsang's method; shapes below 1 by the usual boost).
func gamma(rng *rand.Rand, shape, mean float64) float64 {
	scale := mean / shape
	boost := 1.0
	if shape < 1 {
		boost = math.Pow(rng.Float64(), 1/shape)
		shape++
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rng.Float64()
		if math.Log(u) < 0.5*x*x+d-d*v+d*math.Log(v) {
			return d * v * scale * boost
		}
	}
}

// beta draws from a Beta(a, b) distribution.
func beta(rng *rand.Rand, a, b float64) float64 {
	x := gamma(rng, a, a)
	y := gamma(rng, b, b)
	return x / (x + y)
}
