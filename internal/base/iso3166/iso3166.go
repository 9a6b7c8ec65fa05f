// Package iso3166 knows the officially assigned ISO 3166-1 alpha-2 country codes.
package iso3166

// codes holds the 249 officially assigned alpha-2 codes.
const codes = "" +
	"AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ " +
	"BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
	"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ " +
	"DE DJ DK DM DO DZ " +
	"EC EE EG EH ER ES ET " +
	"FI FJ FK FM FO FR " +
	"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY " +
	"HK HM HN HR HT HU " +
	"ID IE IL IM IN IO IQ IR IS IT " +
	"JE JM JO JP " +
	"KE KG KH KI KM KN KP KR KW KY KZ " +
	"LA LB LC LI LK LR LS LT LU LV LY " +
	"MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ " +
	"NA NC NE NF NG NI NL NO NP NR NU NZ " +
	"OM " +
	"PA PE PF PG PH PK PL PM PN PR PS PT PW PY " +
	"QA " +
	"RE RO RS RU RW " +
	"SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ " +
	"TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ " +
	"UA UG UM US UY UZ " +
	"VA VC VE VG VI VN VU " +
	"WF WS " +
	"YE YT " +
	"ZA ZM ZW"

// table maps the two letters to 1 + the code's position in All(); 0 means
// unassigned. A fixed array keeps lookups allocation-free on the request path.
var table [26 * 26]int16

func init() {
	for i, n := 0, int16(1); i+1 < len(codes); i, n = i+3, n+1 {
		table[index(codes[i], codes[i+1])] = n
	}
}

func index(a, b byte) int { return int(a-'A')*26 + int(b-'A') }

// Valid reports whether code is an assigned alpha-2 code, in upper case.
func Valid(code string) bool { return Index(code) >= 0 }

// Index returns the code's position in All(), or -1 when code is not an
// assigned alpha-2 code in upper case.
func Index(code string) int {
	if len(code) != 2 {
		return -1
	}
	a, b := code[0], code[1]
	if a < 'A' || a > 'Z' || b < 'A' || b > 'Z' {
		return -1
	}
	return int(table[index(a, b)]) - 1
}

// All returns every assigned code in alphabetical order.
func All() []string {
	out := make([]string, 0, 249)
	for i := 0; i+1 < len(codes); i += 3 {
		out = append(out, codes[i:i+2])
	}
	return out
}
