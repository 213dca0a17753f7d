"""Nicknames and French/English variants of given names, folded to one canonical form.

A small, hand-curated table (English diminutives and their French counterparts as used in Canada).  Keys and
values are accent-free lower-case letters, as produced by :func:`harbour.sharing.normalise.given_key`.
"""

from __future__ import annotations

_GROUPS: dict[str, tuple[str, ...]] = {
    "robert": ("bob", "bobby", "rob", "robbie", "robby", "bert", "roberto"),
    "william": ("bill", "billy", "will", "willy", "willie", "liam", "guillaume", "wilhelm"),
    "john": ("jack", "johnny", "jon", "jonny", "jean", "johnathan", "juan", "ian", "sean", "shawn", "giovanni"),
    "james": ("jim", "jimmy", "jamie", "jacques", "jake", "jacob", "jaime", "diego"),
    "mary": ("marie", "maria", "mae", "may", "molly", "polly", "mariette", "maryse"),
    "peter": ("pete", "pierre", "pedro", "pietro", "piotr"),
    "michael": ("mike", "mikey", "mick", "mickey", "michel", "micheal", "miguel", "mikhail", "misha"),
    "joseph": ("joe", "joey", "jos", "jose", "giuseppe", "josef"),
    "francis": ("frank", "frankie", "francois", "francesco", "francisco", "fran"),
    "frances": ("francoise", "fanny", "francine", "francesca"),
    "catherine": ("cathy", "kathy", "kate", "katie", "katherine", "kathryn", "catharine", "katharine", "cat",
                  "kat", "caitlin", "catarina", "katrina", "kay", "trina"),
    "elizabeth": ("liz", "lizzie", "beth", "betty", "bette", "elisabeth", "eliza", "lisa", "libby", "elise",
                  "babette", "isabel", "isabelle", "isabella", "elsa", "lise"),
    "margaret": ("maggie", "meg", "peggy", "marguerite", "margot", "margo", "marge", "margie", "greta", "rita"),
    "richard": ("rick", "ricky", "rich", "richie", "dick", "ricardo"),
    "thomas": ("tom", "tommy", "thom", "tomas", "tomasz"),
    "charles": ("charlie", "chuck", "charly", "carlos", "carl", "karl", "carlo"),
    "edward": ("ed", "eddie", "eddy", "ted", "teddy", "edouard", "eduardo", "ned"),
    "henry": ("hank", "harry", "henri", "enrique", "heinrich", "hal"),
    "louis": ("lou", "louie", "luis", "lewis", "ludovic", "luigi"),
    "louise": ("louisa", "lulu", "luisa"),
    "alexander": ("alex", "alec", "sandy", "alexandre", "alejandro", "alessandro", "sasha", "xander"),
    "alexandra": ("alexandrine", "alexa", "alexis", "lexi", "sandra", "alejandra"),
    "andrew": ("andy", "drew", "andre", "andres", "andrea", "andrzej"),
    "anthony": ("tony", "antoine", "antonio", "anton", "antony"),
    "daniel": ("dan", "danny", "dani", "daniele"),
    "danielle": ("dany", "daniela", "daniella"),
    "david": ("dave", "davey", "davy", "davide"),
    "nicholas": ("nick", "nicky", "nicolas", "nico", "nicola", "nikolai", "klaus", "colin"),
    "nicole": ("nikki", "nicky", "colette", "nicoletta"),
    "stephen": ("steve", "steven", "stevie", "stephane", "etienne", "stefan", "esteban", "stefano"),
    "stephanie": ("steph", "stefanie", "stephany", "fanny"),
    "christopher": ("chris", "kit", "christophe", "cristobal", "topher"),
    "christine": ("christina", "kristine", "kristina", "tina", "chrissy", "cristina", "kirsten"),
    "matthew": ("matt", "matty", "mathieu", "matthieu", "mateo", "matteo", "mathew"),
    "philip": ("phil", "philippe", "felipe", "filippo", "phillip"),
    "patrick": ("pat", "paddy", "patrice", "patricio"),
    "patricia": ("patty", "patti", "trish", "tricia", "patsy"),
    "samuel": ("sam", "sammy", "samuele"),
    "benjamin": ("ben", "benny", "benji", "benoit"),
    "jennifer": ("jen", "jenny", "jenn", "jenna"),
    "susan": ("sue", "suzy", "susie", "suzanne", "susanne", "suzette", "susana"),
    "deborah": ("deb", "debbie", "debby", "debra"),
    "rebecca": ("becky", "becca", "rebekah"),
    "victoria": ("vicky", "vicki", "tori", "victoire"),
    "jane": ("jeanne", "joan", "jeannette", "janet", "janette", "jean", "juana", "giovanna", "jenny"),
    "helen": ("helene", "ellen", "elaine", "helena", "elena", "lena", "nell"),
    "anne": ("ann", "anna", "annie", "nancy", "annette", "ana", "hannah", "anita"),
    "gabriel": ("gabe", "gaby", "gabriele"),
    "gabrielle": ("gabriella", "gabi", "brielle"),
    "joshua": ("josh",),
    "jessica": ("jess", "jessie", "jessy"),
    "jacqueline": ("jackie", "jacquie", "jacquelyn"),
    "lawrence": ("larry", "laurent", "lorenzo", "laurence"),
    "raymond": ("ray", "raimundo", "ramon"),
    "ronald": ("ron", "ronnie", "ronny"),
    "donald": ("don", "donnie", "donny"),
    "gerald": ("gerry", "jerry", "gerard", "gerardo"),
    "kenneth": ("ken", "kenny"),
    "timothy": ("tim", "timmy", "timothee"),
    "gregory": ("greg", "gregoire", "gregorio"),
    "jeffrey": ("jeff", "geoffrey", "geoff", "geoffroy"),
    "leonard": ("leo", "len", "lenny", "leonardo", "leon"),
    "vincent": ("vince", "vinny", "vincenzo", "vicente"),
    "theodore": ("theo", "teddy"),
    "frederick": ("fred", "freddy", "freddie", "frederic", "federico", "fritz"),
    "albert": ("al", "bertie", "alberto"),
    "eugene": ("gene", "eugenio"),
    "emily": ("emilie", "emilia", "em", "millie"),
    "emma": ("emmy",),
    "caroline": ("carol", "carole", "carrie", "carolyn", "carolina", "charlotte", "lina"),
    "julia": ("julie", "juliette", "juliet", "giulia"),
    "julian": ("julien", "jules", "julio", "giulio", "julius"),
    "sophia": ("sophie", "sofia", "sofie"),
    "claire": ("clara", "clare", "chiara"),
    "madeleine": ("madeline", "madelyn", "maddie", "maddy", "magdalena", "magali"),
    "dorothy": ("dot", "dottie", "dorothee", "dora"),
    "virginia": ("ginny", "ginger", "virginie"),
    "veronica": ("ronnie", "veronique", "vero"),
    "genevieve": ("gen", "genny", "jenevieve"),
    "natalie": ("nathalie", "natalia", "nat", "talia", "natasha"),
    "sylvia": ("sylvie", "silvia"),
    "lucy": ("lucie", "lucia", "luce"),
    "martin": ("marty", "martino", "martinez"),
    "marc": ("mark", "marco", "marcus", "marcos"),
    "paul": ("pablo", "paolo", "pauly"),
    "pauline": ("paula", "paulette", "polly"),
    "hugh": ("hugo", "hugues", "hughie"),
    "dominic": ("dom", "dominique", "domenico", "domingo"),
    "simon": ("simone", "simeon"),
    "joanne": ("jo", "joann", "joanna", "johanne"),
    "josephine": ("josie", "jo", "josee", "josette", "giuseppina"),
    "evelyn": ("eve", "evie", "eveline", "evelyne"),
    "angela": ("angie", "angele", "angelique", "angelica"),
    "monica": ("monique", "mona"),
    "theresa": ("terry", "tess", "tessa", "therese", "teresa", "tracy"),
    "christian": ("chris", "christien", "cristian", "kristian"),
    "guy": ("guido",),
    "sebastian": ("seb", "sebastien", "bastien", "sebastiano"),
    "benedict": ("benoit", "benedetto", "benito"),
    "oliver": ("olivier", "ollie", "oliviero"),
    "olivia": ("liv", "olive", "livia"),
    "valerie": ("val", "valeria"),
    "abigail": ("abby", "abbie", "gail"),
    "allison": ("ali", "allie", "alison"),
    "amanda": ("mandy", "manda"),
    "barbara": ("barb", "barbie", "babs"),
    "cynthia": ("cindy", "cinthia"),
    "kimberly": ("kim", "kimmy"),
    "melissa": ("mel", "missy", "lissa"),
    "pamela": ("pam", "pammy"),
    "samantha": ("sammie", "sam"),
    "zachary": ("zach", "zack", "zac"),
    "nathaniel": ("nate", "nathan", "nat"),
    "jonathan": ("jonny", "jonathon"),
}

_LOOKUP: dict[str, str] = {}
for canon, variants in _GROUPS.items():
    _LOOKUP.setdefault(canon, canon)
    for v in variants:
        _LOOKUP.setdefault(v, canon)


def canonical_given(key: str | None) -> str | None:
    """The canonical form of a normalised given name: "bob" -> "robert", "guillaume" -> "william".

    Names not in the table stand for themselves.
    """
    if not key:
        return None
    return _LOOKUP.get(key, key)


def variants_of(canon: str) -> tuple[str, ...]:
    """Known variants of a canonical given name (used by the synthetic generator)."""
    return tuple(v for v in _GROUPS.get(canon, ()) if _LOOKUP.get(v) == canon)
