package demo

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/touchbase/touchbase"
)

// The catalogue is a home & gifts and apparel store's: ten categories of
// product types, each made in a few of the store's collections ("Juniper
// Scented Candle"), so that names read like a real shop's and are unique.
// Prices scatter log-normally around each product type's typical price,
// and popularity follows a Zipf law over the whole catalogue: a few
// products sell far more than the rest, as in every shop.

// storeURL is the demo store's address; example.com is reserved for
// documentation, so no link in the demo leads anywhere real.
const storeURL = "https://shop.example.com"

// storeName is the demo store's name, used in page titles.
const storeName = "Harbor & Pine"

type productType struct {
	noun  string
	price float64 // typical price, USD
}

type categorySpec struct {
	name   string
	code   string // SKU prefix
	weight float64
	brands []string
	types  []productType
}

var categorySpecs = []categorySpec{
	{"Home Decor", "HD", 1.4, []string{"Hearth & Co", "Maison Lune", "Oakridge"}, []productType{
		{"Scented Candle", 24}, {"Ceramic Vase", 38}, {"Throw Pillow", 32}, {"Wool Throw", 89}, {"Picture Frame", 22},
		{"Round Wall Mirror", 129}, {"Table Lamp", 95}, {"Woven Basket", 35}, {"Art Print", 45}, {"Reed Diffuser", 29}}},
	{"Kitchen & Dining", "KD", 1.2, []string{"Kiln Studio", "Copper Pot", "Fieldware"}, []productType{
		{"Stoneware Mug", 18}, {"Serving Bowl", 42}, {"Dinner Plate Set", 68}, {"Linen Tea Towel", 14}, {"French Press", 45},
		{"Olive Wood Board", 39}, {"Chef's Knife", 110}, {"Glass Carafe", 32}, {"Salad Servers", 26}, {"Teapot", 52}}},
	{"Bath & Body", "BB", 1.0, []string{"Saltwater Apothecary", "Bloom & Wick"}, []productType{
		{"Hand Soap", 12}, {"Bath Salts", 19}, {"Hand Cream", 16}, {"Body Oil", 34}, {"Cotton Bath Towel", 29},
		{"Bath Robe", 85}, {"Lip Balm", 7}, {"Gift Set", 58}}},
	{"Women's Apparel", "WA", 1.3, []string{"Northline", "Atelier Rue", "Marlow"}, []productType{
		{"Linen Dress", 98}, {"Merino Cardigan", 115}, {"Cotton Tee", 32}, {"Wide-Leg Trousers", 88}, {"Silk Scarf", 65},
		{"Rain Jacket", 165}, {"Knit Beanie", 28}, {"Denim Shirt", 72}}},
	{"Men's Apparel", "MA", 0.9, []string{"Northline", "Grey Fox Supply"}, []productType{
		{"Oxford Shirt", 78}, {"Chino Trousers", 85}, {"Crew Sweater", 110}, {"Organic Tee", 30}, {"Wool Socks", 18},
		{"Waxed Jacket", 245}, {"Flannel Shirt", 69}}},
	{"Accessories", "AC", 0.9, []string{"Canvas & Hide", "Marlow"}, []productType{
		{"Canvas Tote", 35}, {"Leather Wallet", 59}, {"Sunglasses", 79}, {"Leather Belt", 49}, {"Weekender Bag", 189},
		{"Card Holder", 32}, {"Umbrella", 38}}},
	{"Jewellery", "JW", 0.7, []string{"Little Gem", "Aurelia"}, []productType{
		{"Pendant Necklace", 68}, {"Hoop Earrings", 45}, {"Stacking Ring", 39}, {"Charm Bracelet", 55}, {"Stud Earrings", 29},
		{"Signet Ring", 120}}},
	{"Stationery", "ST", 0.8, []string{"Paper Crane", "Inkwell"}, []productType{
		{"Linen Notebook", 22}, {"Weekly Planner", 28}, {"Greeting Card", 6}, {"Fountain Pen", 48}, {"Wrapping Paper", 9},
		{"Desk Calendar", 19}, {"Sticker Sheet", 5}}},
	{"Kids & Toys", "KT", 0.7, []string{"Tiny Acorn", "Bramble"}, []productType{
		{"Plush Bear", 29}, {"Wooden Blocks", 39}, {"Jigsaw Puzzle", 24}, {"Picture Book", 16}, {"Baby Blanket", 45},
		{"Play Tent", 99}}},
	{"Garden & Outdoor", "GO", 0.6, []string{"Greenhouse Goods", "Fieldware"}, []productType{
		{"Terracotta Planter", 26}, {"Watering Can", 34}, {"Picnic Blanket", 59}, {"Garden Gloves", 19}, {"Bird Feeder", 32},
		{"Lantern", 48}, {"Herb Seed Kit", 15}}},
}

// collections are the store's product lines; each product type is made
// in a few of them.
var collections = []string{"Juniper", "Harbor", "Meadow", "Nordic", "Willow", "Coastal", "Heritage", "Aurora", "Fern", "Sable", "Linden", "Dune"}

// zipfExponent shapes popularity: with 1.05 over ~280 products the top
// tenth draws about two thirds of the views, as shop analytics show.
const zipfExponent = 1.05

// catalogue is the shared product list with what sampling needs.
type catalogue struct {
	products []touchbase.Product
	slugs    []string  // URL path of each product
	weight   []float64 // popularity of each product
	cat      []int     // category index of each product
	// byCat lists each category's products, most popular first, with the
	// cumulative popularity for sampling within the category.
	byCat    [][]int
	cumByCat [][]float64
	// cumCat is the cumulative popularity of the categories.
	cumCat []float64
}

// Catalogue returns the products the store sells, the same for every call
// with the same Seed; products are in catalogue order (by product_id).
func Catalogue(cfg Config) []touchbase.Product {
	cfg = cfg.withDefaults()
	return slices.Clone(newCatalogue(cfg.Seed).products)
}

func newCatalogue(seed int64) *catalogue {
	rng := rand.New(rand.NewPCG(uint64(seed), 0xca7a1095e))
	c := &catalogue{byCat: make([][]int, len(categorySpecs)), cumByCat: make([][]float64, len(categorySpecs))}
	for ci, spec := range categorySpecs {
		for ti, pt := range spec.types {
			// Three to five collections of each type; the staples (the
			// first of each list) come in more.
			n := 3 + rng.IntN(2)
			if ti < 3 {
				n++
			}
			cols := rng.Perm(len(collections))[:n]
			slices.Sort(cols)
			for _, col := range cols {
				brand := spec.brands[rng.IntN(len(spec.brands))]
				price := pt.price * math.Exp(0.25*rng.NormFloat64())
				if col%3 == 0 { // the premium lines
					price *= 1.3
				}
				id := len(c.products) + 1
				name := collections[col] + " " + pt.noun
				c.products = append(c.products, touchbase.Product{
					ProductID: "P" + strconv.Itoa(1000+id),
					SKU:       spec.code + "-" + strconv.Itoa(1000+id) + "-" + strings.ToUpper(collections[col][:3]),
					Name:      name,
					Category:  spec.name,
					Brand:     brand,
					Price:     shelfPrice(price),
					Currency:  "USD",
				})
				c.slugs = append(c.slugs, "/products/"+slug(name))
				c.cat = append(c.cat, ci)
			}
		}
	}
	// Popularity: a random rank for each product, Zipf weights by rank,
	// scaled by the category's share of the shop.
	ranks := rng.Perm(len(c.products))
	c.weight = make([]float64, len(c.products))
	for i, r := range ranks {
		c.weight[i] = categorySpecs[c.cat[i]].weight / math.Pow(float64(r+1), zipfExponent)
	}
	catTotal := make([]float64, len(categorySpecs))
	for i, w := range c.weight {
		c.byCat[c.cat[i]] = append(c.byCat[c.cat[i]], i)
		catTotal[c.cat[i]] += w
	}
	sum := 0.0
	for ci := range c.byCat {
		slices.SortStableFunc(c.byCat[ci], func(a, b int) int {
			switch {
			case c.weight[a] > c.weight[b]:
				return -1
			case c.weight[a] < c.weight[b]:
				return 1
			}
			return 0
		})
		c.cumByCat[ci] = cumulative(c.byCat[ci], c.weight)
		sum += catTotal[ci]
		c.cumCat = append(c.cumCat, sum)
	}
	return c
}

// shelfPrice rounds a price the way shops do: 24.99 below 100, 114.99
// above, from 4.99 to 344.99.
func shelfPrice(p float64) float64 {
	p = min(max(p, 5), 345)
	if p < 100 {
		return math.Floor(p) - 0.01
	}
	return math.Round(p/5)*5 - 0.01
}

func cumulative(idx []int, w []float64) []float64 {
	cum := make([]float64, len(idx))
	s := 0.0
	for i, j := range idx {
		s += w[j]
		cum[i] = s
	}
	return cum
}

// pick returns an index into cum drawn in proportion to its increments.
func pick(rng *rand.Rand, cum []float64) int {
	u := rng.Float64() * cum[len(cum)-1]
	i, _ := slices.BinarySearch(cum, u)
	return min(i, len(cum)-1)
}

// category draws a category by its popularity.
func (c *catalogue) category(rng *rand.Rand) int { return pick(rng, c.cumCat) }

// product draws a product of category ci by popularity.
func (c *catalogue) product(rng *rand.Rand, ci int) int {
	return c.byCat[ci][pick(rng, c.cumByCat[ci])]
}

// slug turns a name into a URL path segment.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case r == '\'':
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// categorySlug is a category's collection page path.
func categorySlug(ci int) string { return "/collections/" + slug(categorySpecs[ci].name) }
