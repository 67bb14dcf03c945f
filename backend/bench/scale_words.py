"""Words for the scale benchmark's made-up conversations.

Common words are drawn often and topic words only in the conversations about
that topic, so a search finds as many conversations as it would in a real
collection: a common word most of them, a topic word a few hundred, a project's
made-up name one or two.
"""

from __future__ import annotations


def _words(text: str) -> list[str]:
    return text.split()


# Roughly by frequency: the benchmark draws them with weights falling as 1/rank.
COMMON = _words(
    """
the be to of and a in that have it for not on with he as you do at this but his by
from they we say her she or an will my one all would there their what so up out if
about who get which go me when make can like time no just him know take people into
year your good some could them see other than then now look only come its over think
also back after use two how our work first well way even new want because any these
give day most us is was are been has had were said did got made went used found asked
thing things really maybe quite rather pretty simple better best little large small
long short high low next last early late right wrong same different important possible
able sure clear whole real free full hard easy open close start stop keep let put seem
help show try call turn move play run live believe hold bring happen write provide sit
stand lose pay meet include continue set learn change lead understand watch follow
create speak read allow add spend grow offer remember love consider appear buy wait
serve send expect build stay fall cut reach remain suggest raise pass sell
require report decide pull explain hope develop carry break receive agree support hit
produce eat cover catch draw choose cause point fact case week company system program
question government number night part place problem hand room money story month lot
study book eye job word business issue side kind head house service friend father power
hour game line end member law car city community name president team minute idea kid
body information school face others level office door health person art history
party result morning reason research girl guy moment air teacher force education foot
boy age policy process music market sense nation plan college interest death experience
effect class control care field development role effort rate heart show leader
light voice wife police mind price report decision son view relationship town road arm
difference value building action model season society tax director position player record
paper space ground form event official matter center couple site project activity star
table need court oil situation cost industry figure street image phone data picture
practice piece land product doctor wall patient worker news test movie north love support
technology step baby computer type attention film tree source organization hair window
evidence population site floor table machine memory network file folder error message
example answer option version setting default value list order detail summary draft
"""
)

# Words only conversations about the topic use (a topic word's search finds those).
TOPICS: dict[str, list[str]] = {
    "baking": _words("sourdough starter hydration levain crumb proofing banneton autolyse"),
    "kubernetes": _words("kubernetes ingress kubectl helm namespace pod deployment configmap"),
    "gardening": _words("tomatoes compost mulch seedlings perennials aphids pruning trellis"),
    "astronomy": _words("telescope nebula galaxy exoplanet eclipse parallax redshift aperture"),
    "python": _words("python asyncio decorator dataclass pytest virtualenv generator typing"),
    "rust": _words("rust borrow lifetime cargo trait ownership tokio serde"),
    "cycling": _words("derailleur cadence cassette chainring peloton tubeless saddle gradient"),
    "chess": _words("chess gambit endgame castling checkmate sicilian bishop tempo"),
    "finance": _words("mortgage dividend portfolio inflation annuity brokerage amortization"),
    "travel": _words("itinerary lisbon kyoto layover hostel passport railpass ferry"),
    "photography": _words("aperture shutter exposure bokeh lens tripod histogram raw"),
    "biology": _words("photosynthesis mitochondria enzyme chloroplast ribosome osmosis"),
    "databases": _words("postgres sqlite index vacuum transaction isolation replication query"),
    "music": _words("chord arpeggio metronome scales harmony cadenza ukulele syncopation"),
    "cooking": _words("risotto braise emulsion saffron marinade caramelize deglaze umami"),
    "fitness": _words("deadlift squat hypertrophy protein cardio stretching kettlebell"),
    "writing": _words("manuscript protagonist chapter outline dialogue editor synopsis"),
    "linux": _words("systemd journalctl bash grep cron partition kernel iptables"),
    "history": _words("byzantine renaissance feudal dynasty treaty archive medieval"),
    "parenting": _words("toddler bedtime tantrum daycare nap vaccine playground"),
    "language": _words("spanish conjugation subjunctive vocabulary pronunciation idiom"),
    "physics": _words("quantum entropy momentum relativity photon thermodynamics"),
    "woodworking": _words("dovetail chisel plywood mortise tenon sander varnish"),
    "javascript": _words("javascript react typescript webpack promise closure npm"),
    "coffee": _words("espresso grinder crema pourover roast arabica burr"),
    "hiking": _words("trailhead switchback altitude blister compass backpack summit"),
    "pets": _words("puppy kitten litter leash veterinarian kibble grooming"),
    "climate": _words("emissions carbon renewable solar turbine drought glacier"),
    "statistics": _words("regression variance bayesian median outlier histogram sampling"),
    "homebrew": _words("homebrew hops wort fermentation yeast lager carboy"),
}

# Syllables for each conversation's own made-up project name: a search for one
# finds that conversation, the way a user looks for "the one about Talvoren".
SYLLABLES = _words("ka lo mi ne ru ta vo zen dri bel cor fan gul hes jin kor lum mar nix")
