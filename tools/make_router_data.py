#!/usr/bin/env python3
"""
make_router_data.py — writes tools/data/router/{train,validation,test}.jsonl,
the router's SIMPLE/COMPLEX query corpus (issue 13, part 2).

Every query comes from a hand-written template of one category, filled from
hand-written pools (topics, entities, pasted paragraphs, code snippets), then
passed through seeded surface transforms (greetings, politeness, typos,
casing, punctuation) and, for some, a long chatty or constraint-laden
background in front. The templates and pools are in this file and in
router_data_more.py (its second, larger half: 32-105 templates per
category, short fixed queries of both labels) and router_data_fresh.py (a
third batch written for varied sentence structures and balanced cue words,
plus more whole requests and pasted texts).

The split is by TEMPLATE GROUP: within each category the templates are
grouped (one wording inside another stays together), shuffled with a fixed
seed and dealt ~80% train, ~10% validation, ~10% test, so no phrasing of the
test split is seen in training. Whole-request pool items (word problems,
agent tasks, systems, symptoms...) and pasted documents and news paragraphs
are dealt to one split each too; short shared entities (countries, words,
units) and review/email sentences are shared. Held-out queries still within
word-set Jaccard 0.8 of a train query are dropped. Deterministic: the same
files every run.

Each line: {"text", "label" (SIMPLE|COMPLEX), "category", "template",
"group" (the template group), "fold" (train and validation: the
cross-validation fold of train_router.py --cv, see CV_FOLDS)}.
Usage: python tools/make_router_data.py [--out tools/data/router] [--seed 13]
"""
import argparse
import json
import os
import random
import re

# ============================================================ slot pools

COUNTRIES = [("France", "Paris"), ("Japan", "Tokyo"), ("Peru", "Lima"), ("Kenya", "Nairobi"),
             ("Canada", "Ottawa"), ("Australia", "Canberra"), ("Brazil", "Brasilia"),
             ("Egypt", "Cairo"), ("Norway", "Oslo"), ("Vietnam", "Hanoi"), ("Chile", "Santiago"),
             ("Poland", "Warsaw"), ("Turkey", "Ankara"), ("Morocco", "Rabat"),
             ("Thailand", "Bangkok"), ("Portugal", "Lisbon"), ("Ghana", "Accra"),
             ("Iceland", "Reykjavik"), ("Mongolia", "Ulaanbaatar"), ("Argentina", "Buenos Aires"),
             ("New Zealand", "Wellington"), ("Switzerland", "Bern"), ("India", "New Delhi"),
             ("Mexico", "Mexico City"), ("Ireland", "Dublin")]
PEOPLE = ["Marie Curie", "Isaac Newton", "Ada Lovelace", "Nikola Tesla", "Albert Einstein",
          "Cleopatra", "Napoleon", "Frida Kahlo", "Alan Turing", "Leonardo da Vinci",
          "Charles Darwin", "Mahatma Gandhi", "Grace Hopper", "Galileo", "Shakespeare",
          "Nelson Mandela", "Beethoven", "Rosalind Franklin", "Genghis Khan", "Jane Austen"]
THINGS_INVENTED = ["the telephone", "the light bulb", "the printing press", "the World Wide Web",
                   "penicillin", "the steam engine", "the airplane", "dynamite", "the radio",
                   "the transistor", "the polio vaccine", "the periodic table", "Python",
                   "Linux", "the bicycle", "the zipper"]
CONCEPTS = ["photosynthesis", "inflation", "a black hole", "machine learning", "an API",
            "a blockchain", "DNA", "gravity", "a recession", "an atom", "a compiler",
            "a neural network", "democracy", "the greenhouse effect", "a mortgage", "an index fund",
            "a virus", "a firewall", "a vector database", "Kubernetes", "a hash table",
            "a SQL join", "latency", "an embedding", "osmosis", "entropy", "a sonnet",
            "GDP", "a haiku", "RAM", "a VPN", "a cache", "a REST API", "a mutex", "TCP",
            "a prime number", "the mitochondria", "a tariff", "an allergy", "Python", "Docker",
            "a large language model", "RAG", "a transformer model", "an IPO", "a derivative"]
WORDS = ["ubiquitous", "ephemeral", "serendipity", "pragmatic", "melancholy", "resilient",
         "gregarious", "ambiguous", "meticulous", "nostalgia", "candid", "verbose", "frugal",
         "benevolent", "obsolete", "tenacious", "idempotent", "mundane", "eloquent", "cynical",
         "lethargic", "whimsical", "quixotic", "sanguine", "laconic"]
LANGS = ["French", "Spanish", "German", "Italian", "Japanese", "Portuguese", "Dutch", "Korean",
         "Chinese", "Russian", "Turkish", "Polish", "Swedish", "Arabic", "Hindi"]
PHRASES = ["good morning", "thank you very much", "where is the train station", "I am hungry",
           "see you tomorrow", "how much does this cost", "happy birthday", "I love you",
           "the bill, please", "nice to meet you", "I don't understand", "what time is it",
           "excuse me", "my name is Anna", "cheers", "good night", "the meeting is at noon",
           "I lost my keys", "can I have a coffee", "welcome home", "it is raining",
           "I am running late", "where is the bathroom", "congratulations"]
FOREIGN = [("Bonjour, comment ça va ?", "French"), ("Wo ist der Bahnhof?", "German"),
           ("Muchas gracias por todo", "Spanish"), ("Ci vediamo domani", "Italian"),
           ("Obrigado pela ajuda", "Portuguese"), ("Ik hou van jou", "Dutch"),
           ("Je ne sais pas", "French"), ("¿Dónde está el baño?", "Spanish"),
           ("Ich habe Hunger", "German"), ("Buona notte", "Italian"),
           ("arigatou gozaimasu", "Japanese"), ("Hoe gaat het?", "Dutch")]
BAD_SENTENCES = ["me and him goes to the store yesterday", "their going to be late again",
                 "i could of done it better", "she dont like apples", "Your the best teacher ever",
                 "the datas is loaded in memory", "He have three cat", "we was waiting for hours",
                 "its a nice day isnt it", "Less people came then expected",
                 "I seen that movie last week", "the team are winning there game",
                 "can you sent me the file", "I has a question about the invoice",
                 "Everyone have their own opinion", "he runned very fast",
                 "i am agree with you", "Please find attach the document",
                 "The informations are wrong", "We discussed about the problem",
                 "She is more taller than me", "I didnt knew that",
                 "who's book is this", "irregardless of the weather we go",
                 "Between you and I, it's broken", "the meeting have been postpone"]
MISSPELLED = ["recieve", "definately", "seperate", "accomodate", "occured", "wierd", "untill",
              "goverment", "tommorow", "beleive", "neccessary", "embarass", "existance",
              "calender", "publically", "rythm", "mispell", "acheive", "concensus", "foriegn"]
CONVERSIONS = [("{n} miles", "km"), ("{n} km", "miles"), ("{n} pounds", "kg"), ("{n} kg", "lbs"),
               ("{n} degrees Fahrenheit", "Celsius"), ("{n} C", "F"), ("{n} inches", "cm"),
               ("{n} feet", "meters"), ("{n} ounces", "grams"), ("{n} gallons", "liters"),
               ("{n} cups", "ml"), ("{n} mph", "km/h"), ("{n} GB", "MB"), ("{n} hours", "minutes"),
               ("{n} acres", "square meters"), ("{n} yards", "meters"), ("{n} liters", "gallons"),
               ("{n} USD", "EUR"), ("{n} tablespoons", "teaspoons"), ("{n} psi", "bar")]
NUMS = ["3", "5", "10", "12", "25", "42", "100", "2.5", "0.75", "7", "60", "180", "350", "1000",
        "15", "8", "72", "20", "1.8", "250"]

PRODUCTS = ["headphones", "blender", "hotel", "laptop", "pizza place", "phone case", "novel",
            "yoga mat", "airline", "coffee maker", "running shoes", "dentist", "app", "vacuum",
            "backpack", "restaurant", "movie", "keyboard", "mattress", "car rental"]
POS_BITS = ["Absolutely love it.", "Works exactly as described and arrived a day early.",
            "The staff were friendly and the whole thing felt effortless.",
            "Best purchase I've made this year, honestly.", "Sound quality is crisp and the battery lasts forever.",
            "I was skeptical at first but it completely won me over.",
            "Would recommend to anyone, five stars.", "Super comfortable, I use it every day.",
            "Customer service replaced a missing part within hours.",
            "Great value for the price and it looks even better in person.",
            "My kids adore it and so do I.", "Setup took two minutes and it just works."]
NEG_BITS = ["Broke after two days.", "Total waste of money, do not buy.",
            "The staff were rude and we waited forty minutes for nothing.",
            "Battery dies by lunchtime and support never answered my emails.",
            "Looks nothing like the photos.", "I returned it the same week.",
            "Honestly the worst experience I've had in years.",
            "It overheats constantly and the app keeps crashing.",
            "Cold food, dirty tables, and they still charged a service fee.",
            "Cheap plastic that cracked the first time I dropped it.",
            "Stopped working right after the warranty ended.", "Never again."]
MIX_BITS = ["Delivery was quick.", "The box was a bit dented.", "I bought it for my sister.",
            "We went there on a Tuesday evening.", "It comes in three colors.",
            "I've owned it for about a month now.", "The price was around forty dollars.",
            "Parking was easy to find.", "I ordered the blue one."]
SPAM_EMAILS = [
    "CONGRATULATIONS!!! You have been selected to receive a $1,000 Walmart gift card. Click the link below within 24 hours to claim your prize, no purchase necessary.",
    "Dear friend, I am a barrister representing the estate of a late client who shares your surname. Kindly send your bank details so we can transfer $4.5 million to you.",
    "Your account has been suspended. Verify your password immediately at secure-paypa1-login.com or it will be permanently deleted.",
    "Earn $5000 a week working from home!!! No experience needed. Reply YES to start today.",
    "Hot singles in your area want to meet you tonight. Limited spots, sign up free now.",
    "URGENT: your package could not be delivered. Pay the $1.99 redelivery fee here: bit.ly/xx12",
    "Lose 20 pounds in 10 days with this one weird trick doctors hate. Order now, 80% off.",
    "You won the lottery! To release your winnings please pay a small processing fee of $250 via gift cards.",
]
HAM_EMAILS = [
    "Hi Sam, just a reminder that the quarterly review moved to Thursday at 2pm in room 4B. Let me know if that doesn't work for you.",
    "Hey, are we still on for dinner Saturday? I can bring dessert if you want.",
    "Attached is the invoice for March. Payment terms are 30 days as usual. Thanks, Priya",
    "The build on main is failing since this morning's merge, could someone from the platform team take a look?",
    "Thanks for coming to the interview yesterday. We'd like to invite you to a second round next week.",
    "Mom called, she wants to know if you're coming home for the holidays.",
    "Your order #48213 has shipped and should arrive on Monday. Track it in your account.",
    "Reminder: the office will be closed on Friday for the public holiday.",
]
NEWS = [
    "The city council voted 7 to 2 on Tuesday to approve a new bike lane network covering 40 kilometers of downtown streets. Construction is expected to begin in April and finish by the end of next year, at a cost of about 12 million dollars. Supporters say it will cut traffic and improve safety, while some shop owners worry about losing parking.",
    "Researchers at the University of Oslo reported that a common soil bacterium can break down certain plastics within weeks under lab conditions. The team cautioned that the process is slow at normal temperatures and that more work is needed before it could be used at industrial scale.",
    "Acme Corp announced on Monday that its CEO, Laura Chen, will step down in June after eight years in the role. The board has named CFO Daniel Ortiz as interim chief executive while it searches for a permanent replacement. Shares fell 3 percent in early trading.",
    "Heavy rain caused flooding across parts of northern Italy over the weekend, forcing hundreds of residents to leave their homes. Train services between Milan and Bologna were suspended for several hours, and officials said the water levels were slowly going down on Sunday night.",
    "The new smartphone from Zentek goes on sale in Europe on October 3 and will cost 799 euros for the base model. It features a larger battery, a faster chip and a camera the company says performs better in low light. Reviewers have praised the screen but criticised the lack of a charger in the box.",
    "A small bookstore in Leeds has been named the UK's independent shop of the year. Owner Margaret Hill, who opened it in 1998, said she was shocked and grateful, and credited her loyal customers and the weekly reading club for keeping the business alive through difficult years.",
    "Scientists observed a rare total solar eclipse from a research ship in the South Pacific on Friday. The eclipse lasted just over four minutes, and the team collected data on the sun's outer atmosphere that they hope will help explain why it is so much hotter than the surface.",
    "The national football team beat Portugal 2-1 in a friendly match on Wednesday night. Striker Tom Becker scored both goals, the second in the final minute, after the visitors had equalised early in the second half. The coach said he was pleased but that the defence still needs work.",
]
DOCS = [
    ("Our store accepts returns within 30 days of purchase with the original receipt. Items bought on sale can be exchanged but not refunded. Gift cards are non-refundable.",
     ["How many days do I have to return something?", "can i get a refund on a sale item", "Are gift cards refundable?"]),
    ("The Pro plan costs $12 per user per month billed annually, or $15 billed monthly. It includes 100 GB of storage, priority support and SSO. The Free plan includes 5 GB and community support only.",
     ["how much is the pro plan monthly?", "Does the free plan include SSO?", "How much storage comes with Pro?"]),
    ("The library is open Monday to Friday from 8 am to 9 pm, and on Saturdays from 10 am to 5 pm. It is closed on Sundays and public holidays. Members can borrow up to 10 books for three weeks.",
     ["Is the library open on Sunday?", "how many books can i borrow", "What time does it close on Saturday?"]),
    ("To reset your router, hold the reset button on the back for 10 seconds until the lights blink orange. The default Wi-Fi password is printed on the sticker under the device. The admin page is at 192.168.1.1.",
     ["How long do I hold the reset button?", "where do i find the default wifi password", "What's the admin page address?"]),
    ("Employees accrue 1.5 days of paid vacation per month, up to a maximum of 25 days per year. Unused days can be carried over until March 31 of the following year. Sick leave is tracked separately.",
     ["How many vacation days per month do we get?", "until when can I carry over unused days", "Is sick leave part of vacation?"]),
    ("Flight LX318 departs Zurich at 07:40 and arrives in London Heathrow at 08:35 local time. Checked baggage allowance is one bag of up to 23 kg. Boarding closes 20 minutes before departure.",
     ["What time does the flight land?", "how heavy can my checked bag be", "When does boarding close?"]),
    ("The ThermoMax kettle holds 1.7 liters and boils water in about three minutes. It switches off automatically when the water boils or if it is lifted from the base. The warranty covers two years from the date of purchase.",
     ["How long is the warranty?", "What's the capacity of the kettle?", "does it turn off by itself"]),
    ("Patients should arrive 15 minutes before their appointment and bring a photo ID and their insurance card. Appointments can be cancelled free of charge up to 24 hours in advance; later cancellations cost $40.",
     ["How early should I arrive?", "how much is a late cancellation", "What do I need to bring?"]),
]

# ------------------------------------------------------------- complex pools

THEOREMS = ["sqrt 2 is irrational", "there are infinitely many primes",
            "the sum of the first n odd numbers is n^2", "every tree with n nodes has n-1 edges",
            "the halting problem is undecidable", "log2(3) is irrational",
            "a graph is bipartite iff it has no odd cycle", "n^3 - n is divisible by 6 for all n",
            "the harmonic series diverges", "there is no largest even number",
            "any two consecutive integers are coprime", "e is irrational"]
ALGOS = ["an LRU cache", "a trie with prefix search", "Dijkstra's shortest path", "a rate limiter",
         "a thread-safe queue", "a JSON parser", "merge sort", "a bloom filter",
         "a min-heap", "a web scraper that respects robots.txt", "a CLI todo app",
         "a REST endpoint for user signup", "a binary search tree with deletion",
         "a retry decorator with exponential backoff", "a markdown to HTML converter",
         "a CSV deduplication script", "an event emitter", "a URL shortener service",
         "a sudoku solver", "a consistent hashing ring", "a tokenizer for arithmetic expressions",
         "a connection pool", "a file watcher that syncs to S3", "a chat server with websockets"]
PLANGS = ["Python", "Rust", "Go", "TypeScript", "C", "Java", "C++", "Kotlin", "JavaScript",
          "C#", "Haskell", "bash"]
SYSTEMS = ["a distributed RAG system with fault tolerance", "a URL shortener at 100k requests/s",
           "Twitter's home timeline", "a global payments ledger", "a ride-sharing dispatch system",
           "a multi-tenant SaaS billing platform", "a real-time chat app for 10M users",
           "a video streaming CDN", "a feature store for ML", "a distributed job scheduler",
           "a search engine for internal documents", "an inventory system for 500 stores",
           "a metrics pipeline ingesting 1M events per second", "a collaborative text editor",
           "an LLM inference gateway with routing and caching", "a notification service",
           "a fraud detection pipeline", "a multi-region key-value store", "an e-commerce checkout",
           "a hospital appointment booking system"]
STORY_SUBJECTS = ["a lighthouse keeper who finds a message in a bottle", "a robot learning to cook",
                  "two rival bakers in a small town", "the last library on Mars",
                  "a detective who can hear lies", "a dragon afraid of heights",
                  "a grandmother's secret recipe", "a time traveler stuck on a Tuesday",
                  "a cat who runs a bookstore", "an astronaut's final transmission",
                  "a city where it never stops raining", "a ghost who haunts a data center",
                  "the first day of school for a shy kid", "a heist at a museum of clocks"]
FORMS = ["short story", "poem", "sonnet", "screenplay scene", "song", "fairy tale", "monologue",
         "flash fiction piece", "limerick sequence", "villanelle"]
ANALYSIS_TOPICS = ["the causes of the 2008 financial crisis", "remote work's effect on cities",
                   "the ethics of facial recognition", "why the Roman Empire fell",
                   "the impact of social media on teen mental health",
                   "nuclear vs renewable energy for decarbonisation",
                   "the trade-offs of a four-day work week", "universal basic income",
                   "the rise of open-source AI models", "microservices vs monoliths",
                   "the long-term effects of quantitative easing", "electric car adoption in Europe",
                   "the Industrial Revolution's impact on family life", "housing affordability",
                   "how streaming changed the music industry", "carbon taxes vs cap-and-trade"]
GOALS_N = ["a mobile app launch in 3 months with 2 developers", "my first marathon in 16 weeks",
           "our move from Jenkins to GitHub Actions", "a year of Japanese study to reach N3",
           "a zero-downtime migration of a 2 TB Postgres database", "opening a small bakery",
           "a two-week trip through Japan on a budget", "my senior engineer interview prep",
           "paying off $30k of debt in two years", "a 200-person conference",
           "onboarding 5 new hires in the same week", "a product launch across three countries",
           "a career switch from teaching to data science", "a kitchen renovation under $20k"]
GOALS = ["launch a mobile app in 3 months with 2 developers", "run my first marathon in 16 weeks",
         "move my team from Jenkins to GitHub Actions", "learn Japanese to N3 in a year",
         "migrate a 2 TB Postgres database with no downtime", "start a bakery business",
         "travel through Japan for two weeks on a budget", "prepare for a senior engineer interview",
         "pay off $30k of debt in two years", "organise a 200-person conference",
         "onboard 5 new hires in the same week", "launch a product in three countries at once",
         "switch careers from teaching to data science", "renovate a kitchen for under $20k"]
AGENT_TASKS = ["find the three cheapest flights from Berlin to Lisbon next month, compare baggage rules and book the best one",
               "read my last 50 emails, draft replies to the urgent ones and put the meetings in my calendar",
               "pull last quarter's sales from the database, build a chart and email it to the team",
               "search the web for recent papers on mixture of experts, summarise the top five and save notes to Notion",
               "check our GitHub issues labeled bug, reproduce each one locally and open PRs for the easy fixes",
               "monitor this stock, and if it drops 5% sell half and text me",
               "scrape the competitor pricing pages every morning, diff against ours and post changes in Slack",
               "go through the shared drive, find contracts expiring this year and make a renewal schedule",
               "plan a team offsite: find venues, check everyone's calendars, get quotes and book one under budget",
               "set up a cron job that backs up the database, verifies the backup and alerts on failure",
               "look up the weather for the whole week, then reschedule my outdoor meetings accordingly",
               "crawl our docs site, find broken links and open a ticket for each"]
LEGAL_MED = ["my landlord kept my whole deposit for 'normal wear and tear'; what are my options in California",
             "I was let go two weeks after telling my boss I'm pregnant. Is this discrimination and what should I do",
             "my mother takes warfarin and the doctor added amiodarone; what interactions should we watch for",
             "can a non-compete signed in Texas stop me from joining a competitor in another state",
             "I have chest tightness when I run but my ECG was normal, what could explain it and what tests should I ask for",
             "my business partner wants to leave; how do we value and split an LLC with no operating agreement",
             "is it safe to combine ibuprofen with my blood pressure medication given I have mild kidney disease",
             "a client is refusing to pay after I delivered the work without a written contract, what are my legal options",
             "my child's fever keeps coming back every few days for three weeks, what could cause that",
             "how does GDPR apply if my US startup stores emails of EU users on servers in Ohio",
             "should I take statins with an LDL of 160 but otherwise good health at 45",
             "my ex is moving abroad with our kid; what rights do I have under the Hague convention"]
BUGGY_CODE = [
    "def avg(xs):\n    return sum(xs) / len(xs)\n\nprint(avg([]))",
    "for (int i = 0; i <= n; i++) { arr[i] = 0; }",
    "async function load() {\n  const data = fetch('/api/items').json();\n  return data.items;\n}",
    "SELECT name, COUNT(*) FROM orders JOIN users ON users.id = orders.user_id;",
    "def add_item(item, items=[]):\n    items.append(item)\n    return items",
    "char *copy(const char *s) { char *d = malloc(strlen(s)); strcpy(d, s); return d; }",
    "for i in range(len(lst)):\n    if lst[i] % 2 == 0:\n        lst.remove(lst[i])",
    "let total = 0;\nfor (var i = 0; i < 5; i++) { setTimeout(() => console.log(i), 10); }",
    "func worker(ch chan int) { for v := range ch { fmt.Println(v) } }\n// main never closes ch and deadlocks",
    "public boolean same(String a, String b) { return a == b; }",
    "x = input('number: ')\nprint(x + 1)",
    "while (node != NULL) { free(node); node = node->next; }",
]
ERRORS = ["TypeError: 'NoneType' object is not subscriptable", "segmentation fault (core dumped)",
          "UnhandledPromiseRejectionWarning: TypeError: Cannot read properties of undefined (reading 'map')",
          "java.lang.NullPointerException at OrderService.java:88",
          "error[E0502]: cannot borrow `v` as mutable because it is also borrowed as immutable",
          "fatal error: all goroutines are asleep - deadlock!", "CORS policy: No 'Access-Control-Allow-Origin' header",
          "OOMKilled in my kubernetes pod every few hours", "RecursionError: maximum recursion depth exceeded",
          "ModuleNotFoundError: No module named 'torch' even though pip says it's installed",
          "docker: Error response from daemon: port is already allocated",
          "psycopg2.OperationalError: too many connections"]
WORD_PROBLEMS = [
    "A train leaves at 3pm going 80 km/h and another leaves the same station at 4pm going 100 km/h. When does the second catch up?",
    "If 5 machines make 5 widgets in 5 minutes, how long do 100 machines take to make 100 widgets? explain",
    "A store raises a price by 20% and then cuts it by 20%. Is it back to the original? Show the math.",
    "Alice is twice as old as Bob was when Alice was as old as Bob is now. Alice is 24. How old is Bob?",
    "I have 3 red, 4 blue and 5 green socks in a drawer. How many must I pull in the dark to be sure of a matching pair, and why?",
    "A tank fills in 6 hours with pipe A and 4 hours with pipe B, and drains in 12 hours. With all three open, how long to fill?",
    "What's the probability of getting at least two heads in five coin flips? walk me through it",
    "A rectangle's length is 3 more than twice its width and its area is 54. Find the dimensions step by step.",
    "If I invest $200 a month at 7% annual return, compounded monthly, how much do I have after 25 years? show the formula",
    "Three friends split a bill: one pays double what the second pays, the third pays $10 less than the first, total is $90. Who pays what?",
    "A snail climbs 3 meters up a 10 meter well each day and slides back 2 at night. On which day does it get out?",
    "How many ways can 8 people sit at a round table if two of them refuse to sit together?",
    "A bat and a ball cost $1.10 together; the bat costs $1 more than the ball. How much is the ball? reason carefully",
    "In a class of 30, 18 play soccer, 15 play basketball and 5 play neither. How many play both?",
]
PUZZLES = ["the Monty Hall problem", "the two envelopes paradox", "the birthday paradox",
           "the prisoner's dilemma in repeated games", "Simpson's paradox", "the Ship of Theseus",
           "Newcomb's problem", "the trolley problem", "the sleeping beauty problem"]

SYSTEMS_SHORT = ["Uber", "Twitter", "WhatsApp", "Dropbox", "a CDN", "YouTube", "a KV store",
                 "Google Docs", "Slack", "a message queue", "Netflix", "a rate limiter service",
                 "an ad server", "Airbnb search", "a stock exchange", "a web crawler"]
ALGOS_SHORT = ["quicksort", "a linked list", "binary search", "BFS", "a hash map", "FizzBuzz with tests",
               "an LRU cache", "a tetris clone", "snake", "a stack VM", "a regex engine", "a B-tree",
               "a lexer", "an HTTP server", "a ray tracer", "A* search"]
SHORT_COMPLEX = {
    "math_reasoning": [
        "{pre} Prove that {theorem}.", "{pre} {problem}","Prove Fermat's little theorem.", "Derive Bayes' theorem.", "Solve x^3 - 6x^2 + 11x - 6 = 0.",
                       "Integrate sin^3(x) dx.", "prove there are infinitely many primes", "Why is 0.999... = 1? prove it",
                       "Prove the AM-GM inequality.", "Is 2^67 - 1 prime? show work", "Solve the Monty Hall problem rigorously.",
                       "Derive the quadratic formula.", "Prove Euler's formula for planar graphs.", "Show that e^(i*pi) = -1."],
    "debugging": [
        "{pre} I keep getting {error}. How do I fix it?","Why segfault?", "fix my race condition", "My React app re-renders forever. why?",
                  "Docker build hangs at npm install. Fix?", "Why is my SQL query slow?", "Flaky test, how to debug?",
                  "Goroutine leak, help", "Python memory leak?", "Why does my CSS grid overflow?", "Heap corruption in C, where to start?",
                  "CUDA out of memory, fix?", "nginx 502 randomly. why"],
    "creative_writing": [
        "{pre} Write a {form} about {story}.","Write a poem.", "Write a limerick about a cat.", "Write a haiku about autumn.", "Tell me a story.",
                         "Write a love letter.", "Write song lyrics.", "Invent a myth.", "Write a villain's monologue.",
                         "Write a ghost story.", "Write a rhyming toast.", "write a short sci-fi story", "Write a fable."],
    "analysis": [
        "{pre} Analyze {topic}.","Was Rome's fall inevitable?", "Critique capitalism.", "Is AI overhyped?", "Analyze Hamlet.",
                 "Why did the USSR collapse?", "Evaluate Brexit.", "Is crypto a bubble?", "Why is housing expensive?",
                 "Compare Marx and Smith.", "Is remote work better?", "Analyse Tesla's strategy.", "Why do empires fall?"],
    "planning": [
        "{pre} Help me {goal}.","Plan my wedding.", "Plan a 5-day Rome trip.", "Plan my week.", "Plan a product launch.",
                 "plan my thesis", "Plan a move abroad.", "Plan a hackathon.", "Plan our Q3 roadmap.",
                 "Plan a study schedule.", "Plan a garden.", "Plan a startup MVP.", "Plan a birthday party."],
    "agentic": [
        "{pre} Please {agent}.","Book me a flight to Rome.", "Clean up my inbox.", "Deploy to prod and verify.", "Order groceries for the week.",
                "Fix the failing CI.", "Reconcile my expenses.", "Triage today's tickets.", "Schedule my interviews.",
                "Back up and rotate the logs.", "Refund order 4471 and email the customer.", "Find and book a dentist.",
                "Migrate the repo to GitLab."],
    "legal_medical": [
        "{pre} {legal}?","Can I sue my landlord?", "Is my mole cancer?", "Do I need a will?", "Are my symptoms serious?",
                      "Can I break my lease?", "Is this rash shingles?", "Can my boss fire me for this?",
                      "Should I change my meds?", "Is my contract enforceable?", "Is this drug safe in pregnancy?",
                      "Am I liable for the accident?", "Why do I get migraines?"],
    "code_review": [
        "{pre} Review this:\n{code}","Review my PR.", "Is this code thread-safe? x += 1", "Review: eval(input())", "Is my API design RESTful?",
                    "Critique my schema.", "Is goto ok here?", "Review this regex: ^.*$", "Is global state bad here?",
                    "Rate my architecture.", "Singleton or DI?", "Review my Dockerfile.", "Is this SQL injectable?"],
}
PREAMBLES = ["I'm writing a report for work that's due tomorrow morning and I want to double-check one thing before I send it.",
             "My grandfather and I were talking over dinner and we couldn't agree, so I promised I'd ask.",
             "Sorry if this is a dumb question, I'm new to all of this and still figuring things out.",
             "I'm preparing material for a class I'm teaching next week and want to get this right.",
             "Context: I'm on my phone on a train with bad signal so please keep it focused.",
             "I've been going back and forth on this for a while and my colleagues are busy today.",
             "For a blog post I'm finishing tonight,", "I'm studying for an exam on Friday and my notes are a mess.",
             "Long story short, my team lead asked me this and I didn't want to guess.",
             "My daughter is doing homework and asked me, and honestly I'm not sure."]

# ------------------------------------------------------------- more pool items
# (added so that every split gets its own sentences from the content pools
# below, see SPLIT_POOLS)

POS_BITS += ["The instructions were clear and everything fit on the first try.",
             "Honestly exceeded my expectations for the price.",
             "The room was spotless and the view was stunning.",
             "Fast shipping, solid build, zero complaints.",
             "It has made my mornings so much easier.",
             "Our waiter remembered us from last time, such a nice touch."]
NEG_BITS += ["The zipper broke the first week and the seller ignored me.",
             "Way too loud, you can hear it from the other room.",
             "They cancelled my booking an hour before and offered no refund.",
             "The screen scratches if you so much as look at it.",
             "Smelled like chemicals for days after unpacking.",
             "Half the features shown in the ad simply don't exist."]
SPAM_EMAILS += [
    "Dear valued customer, your Netflix payment failed. Update your card within 12 hours at netf1ix-billing.co to avoid losing access.",
    "FINAL NOTICE: Your car's extended warranty is about to expire. Press 1 to speak to a specialist now.",
    "Exclusive crypto opportunity!! Turn $250 into $12,000 in 7 days, guaranteed returns, join our Telegram.",
    "Hello, I found your profile and I want to offer you a remote assistant job paying $900/week, just send your ID and SSN to get started.",
]
HAM_EMAILS += [
    "Hi all, the slides from today's all-hands are in the shared drive under /2024/Q2. Ping me if you can't open them.",
    "Your dentist appointment is confirmed for Wednesday, 10:30 am. Reply C to cancel.",
    "Hey, I left my charger at your place last night, can you bring it to work tomorrow?",
    "Thanks for your payment of $64.20. Your electricity bill for May is now settled.",
]
NEWS += [
    "Officials in Lagos opened a new light rail line on Thursday, linking the island business district to the mainland. The first phase runs 13 kilometers with five stations, and the state government says it will carry up to 175,000 passengers a day once fully operational.",
    "The software company Brightline said on Wednesday that it will acquire the analytics start-up Datafold for 310 million dollars in cash and stock. The deal, expected to close in the third quarter, still needs approval from regulators in the United States and the European Union.",
    "A record 2.3 million people visited the Louvre in the first four months of the year, the museum said on Monday. Director Anne Morel said timed tickets would become mandatory from July to reduce queues at the glass pyramid entrance.",
    "Firefighters in southern Spain brought a large forest fire near Malaga under control on Saturday after three days. About 2,000 people were evacuated from nearby villages, and no injuries were reported, according to the regional emergency service.",
]
DOCS += [
    ("Parking in Lot B is free for visitors for the first two hours. After that it costs $3 per hour, up to $15 per day. Overnight parking is not allowed, and vehicles left after midnight will be towed.",
     ["How long is parking free?", "what's the daily max for parking", "Can I leave my car overnight?"]),
    ("The gym's pool is open from 6 am to 10 pm on weekdays. Swim caps are required, and children under 12 must be accompanied by an adult. Lap lanes can be reserved online up to 48 hours ahead.",
     ["Do I need a swim cap?", "how far ahead can i book a lap lane", "Can my 10 year old swim alone?"]),
    ("Orders over $50 ship free within the continental US and arrive in 3 to 5 business days. Express shipping costs $12 and arrives in 1 to 2 days. We do not ship to P.O. boxes.",
     ["Is shipping free for a $60 order?", "how much is express shipping", "Can you ship to a PO box?"]),
    ("The Model T3 e-bike has a range of up to 80 km per charge and a top assisted speed of 25 km/h. A full charge takes about five hours. The battery is covered by a three-year warranty.",
     ["What's the range of the T3?", "how long does charging take", "How long is the battery warranty?"]),
]
THEOREMS += ["sqrt 3 is irrational", "the product of two odd numbers is odd",
             "every integer greater than 1 has a prime factorisation",
             "there are uncountably many real numbers", "the angles of a triangle sum to 180 degrees",
             "a number is divisible by 9 iff its digit sum is"]
ALGOS += ["a union-find with path compression", "an interval tree", "a circuit breaker",
          "a producer-consumer pipeline", "a rope data structure for a text editor",
          "an autocomplete service backed by a trie"]
SYSTEMS += ["a food delivery tracking system", "a photo sharing app with feeds",
            "a distributed cache with invalidation", "a ticket booking system for concerts",
            "an online multiplayer game backend", "a log search platform like Splunk"]
STORY_SUBJECTS += ["a mail carrier who delivers letters to the past", "a village that forgot how to sleep",
                   "a chess prodigy who refuses to lose on purpose", "an old tree that remembers everything",
                   "a submarine crew hearing music from the deep", "a florist who can read emotions"]
ANALYSIS_TOPICS += ["the decline of local newspapers", "the gig economy's effect on workers",
                    "the geopolitics of rare earth metals", "why some cities adopt congestion pricing",
                    "the legacy of colonialism on African borders", "the effects of minimum wage increases"]
GOALS_N += ["a home network upgrade for a small office", "a wedding for 80 guests in six months",
            "a podcast launch with weekly episodes", "a GDPR compliance project for our startup"]
GOALS += ["upgrade the home network of a small office", "organise a wedding for 80 guests in six months",
          "launch a podcast with weekly episodes", "get our startup GDPR compliant"]
AGENT_TASKS += ["compare the prices of these five laptops across three shops, check reviews and order the best value one",
                "go through our AWS bill, find unused resources and shut them down after asking me",
                "collect all the invoices from my email for last year, rename them and upload them to the accountant's folder",
                "find a plumber near me with good reviews who can come tomorrow, call to confirm and add it to my calendar",
                "download the latest CSV exports from the CRM, merge them, remove duplicates and update the dashboard",
                "translate our help center articles into Spanish, open a PR for each and request review from the localisation team",
                "check which of our dependencies have security advisories, upgrade them one by one and run the tests after each",
                "watch the support inbox overnight, answer the password reset requests and escalate anything about billing"]
LEGAL_MED += ["my doctor wants me on metformin but I read about B12 deficiency; how worried should I be and what should I monitor",
              "the company I freelance for wants to own every idea I have, even outside work; is that clause enforceable in the UK",
              "I got a DUI in one state and now live in another; how does that affect my licence and insurance",
              "my father has early dementia and won't stop driving; what are our legal and medical options",
              "I've had heartburn daily for two months despite antacids, when is it worth getting an endoscopy",
              "our HOA fined us for solar panels; do state solar access laws override their rules in Florida",
              "I'm breastfeeding and my dentist prescribed antibiotics; which ones are considered compatible and why",
              "a coworker posted my photo online without consent and it's hurting my job search; can I make them take it down"]
BUGGY_CODE += [
    "def fib(n):\n    return fib(n-1) + fib(n-2)",
    "const items = await db.query(`SELECT * FROM items WHERE name = '${req.query.name}'`);",
    "if (strcmp(a, b)) { puts(\"equal\"); }",
    "with open('data.txt') as f:\n    for line in f:\n        total += int(line)",
    "std::vector<int> v; for (auto it = v.begin(); it != v.end(); ++it) if (*it < 0) v.erase(it);",
    "fn first(v: &Vec<String>) -> &String { let s = v[0].clone(); &s }",
]
ERRORS += ["KeyError: 'user_id' when reading the request JSON",
           "ssl.SSLCertVerificationError: certificate verify failed: unable to get local issuer certificate",
           "git push rejected: non-fast-forward updates were rejected",
           "Uncaught RangeError: Maximum call stack size exceeded in my React component"]
WORD_PROBLEMS += [
    "A recipe for 4 needs 300 g of flour and 2 eggs. I'm cooking for 10 and only have 5 eggs. How much flour should I use and is the egg count enough? show your reasoning",
    "Two cyclists start 60 km apart and ride toward each other at 12 and 18 km/h. A fly goes back and forth between them at 30 km/h. How far does the fly travel?",
    "A shirt costs $40 after a 20% discount and then 8% sales tax is added. What was the original price and what do I pay in the end? Explain step by step.",
    "A company's revenue grew 10% in year one, fell 10% in year two, and grew 25% in year three. What is the total growth over the three years, and the average yearly rate?",
    "If a password has 8 characters chosen from 62 symbols, and an attacker tries a billion per second, how long does it take to try them all? walk through the numbers",
    "There are 5 red and 7 blue marbles in a bag. I draw three without replacement. What's the probability exactly two are blue? show the combinatorics",
    "Anna reads 20 pages on Monday and each day reads 5 more pages than the day before. How many pages has she read after two weeks? explain",
    "A phone plan costs $25 a month plus $0.10 per minute over 300 minutes, another is a flat $45. At how many minutes do they cost the same, and which should I pick if I talk 450 minutes?",
    "Three workers paint a house in 12 days. After 4 days one quits. How long do the other two need to finish? Show the work.",
    "A boat goes 24 km downstream in 2 hours and back upstream in 3 hours. What are the speed of the boat and of the current?",
    "I roll two dice. What is the probability that the sum is prime, and what's the expected sum given that it is prime?",
    "A loan of $15,000 at 6% a year is repaid in equal monthly payments over 4 years. What is the monthly payment and how much interest do I pay in total? derive it",
    "In a tournament of 64 teams where each game eliminates one team, how many games are played? Then do the same if losers get a second chance.",
    "A farmer has 100 m of fence and wants the largest rectangular pen against a barn wall. What dimensions should he use? prove it is the maximum",
    "If it takes 8 people 6 hours to unload a truck, how many people are needed to do it in 2 hours, and what assumptions does that answer make?",
    "A clock shows 3:15. What is the angle between the hour and minute hands? Then find every time of day when they overlap.",
    "Mixing 3 liters of 20% juice with some 50% juice gives 35% juice. How much 50% juice was added? set up the equation",
    "A population of bacteria doubles every 20 minutes starting from 50. When does it pass one million, and how sensitive is that to the doubling time?",
]

SCRIPT_TASKS = ["watches a folder and resizes new images", "merges two sorted CSV files by date",
                "backs up a Postgres database to S3 every night", "finds duplicate files by hash",
                "parses nginx logs and reports the top 10 IPs", "converts markdown notes to a static site",
                "scrapes a product page and alerts me when the price drops", "renames files by their EXIF date",
                "validates a JSON config against a schema", "splits a large PDF into chapters",
                "syncs two directories over SSH", "rate-limits API calls per user",
                "generates random test data for a users table", "checks a list of URLs for broken links"]

# long context users paste before a COMPLEX request (so that long does not mean SIMPLE)
COMPLEX_CONTEXTS = [
    "Some background: we're a team of five engineers, our product is a B2B dashboard on Django and Postgres hosted on AWS, traffic roughly tripled since March, and our on-call rotation is getting painful because nobody fully understands the older parts of the code.",
    "I've read several blog posts about this and they contradict each other, my manager wants a recommendation by Friday that covers costs, risks and what we would have to change, and I'd rather understand the reasoning than just copy someone's answer.",
    "For context, I'm a second-year student, I know basic Python and some linear algebra, and I have about two hours a day for the next month; I learn best when things are explained from first principles with examples.",
    "We run a small family business with three shops, most of our records are still in spreadsheets, the budget for any change is tight, and whatever we do has to be something my parents can keep using after I move away.",
    "Our current setup has grown organically over six years: a monolith, a cron server nobody wants to touch, two databases that are supposed to be in sync but often aren't, and a handful of scripts that only one person understands.",
    "I'm preparing for a panel discussion next week where the audience will be mixed, some experts and some complete beginners, so I need an answer that is rigorous but that I can also explain in plain language.",
    "Quick summary of my situation: I'm 38, I moved to a new country last year, the rules here are different from what I'm used to, and the official websites are confusing and sometimes contradict each other.",
    "We tried the obvious approach already and it worked in testing, but in production with real users and real data it fell apart in ways we didn't predict, and we've lost a week going in circles.",
    "I've been asked to take over a project from a colleague who left suddenly; the documentation is thin, the deadline hasn't moved, and the stakeholders expect me to present a plan on Monday.",
    "Here's what I have so far, after a weekend of reading and experimenting: a rough idea, a list of constraints from my boss, and a feeling that I'm missing something important about how the pieces fit together.",
    "Context: this is for a non-profit that runs on volunteers and donations, so anything we choose has to be cheap, easy to hand over to the next volunteer, and robust enough that it won't break while nobody is watching.",
    "My partner and I disagree about this and we've agreed to go with whatever holds up after a careful look at the trade-offs, so please don't just pick a side, walk through the reasoning.",
]

# Pools whose items are whole requests (a word problem, an agent task, a
# legal or medical situation, a theorem, a goal...): each item belongs to ONE
# split (dealt with the seed, ~80/10/10, at least 2 per split), so a test
# request is never a train request under another wrapper. Pasted material
# (reviews, emails, articles, documents, code, error messages) and short
# entities (countries, concepts, words, units) are shared, like the material
# of any real query stream; a validation/test query whose words are still
# too close to a train query's (Jaccard >= 0.8) is dropped (see leakage()).
SPLIT_POOLS = {"theorems": THEOREMS, "algos": ALGOS, "systems": SYSTEMS,
               "stories": STORY_SUBJECTS, "topics": ANALYSIS_TOPICS, "goals": GOALS,
               "agent": AGENT_TASKS, "legal": LEGAL_MED, "problems": WORD_PROBLEMS,
               "puzzles": PUZZLES, "script_tasks": SCRIPT_TASKS, "contexts": COMPLEX_CONTEXTS}
# pools whose items follow another pool's item i to the same split
SPLIT_FOLLOW = {"goals_n": (GOALS_N, "goals")}
TEXTS_TO_SUMMARIZE = NEWS + [d for d, _ in DOCS]

# ============================================================ templates
# Each category: a list of templates. {slot} names are filled from SLOTS; a
# template may also be a callable(rng) -> str for composite fills.


def review(rng, sentiment=None):
    s = sentiment or rng.choice(["pos", "neg", "mixed"])
    bits = POS_BITS if s == "pos" else NEG_BITS
    parts = rng.sample(bits, rng.randint(2, 4)) + rng.sample(MIX_BITS, rng.randint(0, 2))
    if s == "mixed":
        parts = rng.sample(POS_BITS, 2) + rng.sample(NEG_BITS, 2)
    rng.shuffle(parts)
    return f"{' '.join(parts)}"


def email(rng):
    return rng.choice(SPAM_EMAILS + HAM_EMAILS)


SLOTS = {
    "country": lambda r: r.choice(COUNTRIES)[0],
    "capital": lambda r: r.choice(COUNTRIES)[1],
    "person": lambda r: r.choice(PEOPLE),
    "invention": lambda r: r.choice(THINGS_INVENTED),
    "concept": lambda r: r.choice(CONCEPTS),
    "word": lambda r: r.choice(WORDS),
    "lang": lambda r: r.choice(LANGS),
    "phrase": lambda r: r.choice(PHRASES),
    "foreign": lambda r: r.choice(FOREIGN)[0],
    "bad": lambda r: r.choice(BAD_SENTENCES),
    "misspelled": lambda r: r.choice(MISSPELLED),
    "conv_from": lambda r: r.choice(CONVERSIONS)[0].format(n=r.choice(NUMS)),
    "conv": lambda r: (lambda c: f"{c[0].format(n=r.choice(NUMS))} to {c[1]}")(r.choice(CONVERSIONS)),
    "product": lambda r: r.choice(PRODUCTS),
    "review": review,
    "email": email,
    "news": lambda r: r.choice(NEWS),
    "text": lambda r: r.choice(TEXTS_TO_SUMMARIZE),
    "theorem": lambda r: r.choice(THEOREMS),
    "algo": lambda r: r.choice(ALGOS),
    "plang": lambda r: r.choice(PLANGS),
    "system": lambda r: r.choice(SYSTEMS),
    "story": lambda r: r.choice(STORY_SUBJECTS),
    "form": lambda r: r.choice(FORMS),
    "topic": lambda r: r.choice(ANALYSIS_TOPICS),
    "goal": lambda r: r.choice(GOALS),
    "goal_n": lambda r: r.choice(GOALS_N),
    "agent": lambda r: r.choice(AGENT_TASKS),
    "legal": lambda r: r.choice(LEGAL_MED),
    "code": lambda r: r.choice(BUGGY_CODE),
    "error": lambda r: r.choice(ERRORS),
    "problem": lambda r: r.choice(WORD_PROBLEMS),
    "puzzle": lambda r: r.choice(PUZZLES),
    "n": lambda r: r.choice(NUMS),
    "pre": lambda r: r.choice(PREAMBLES),
    "sys_s": lambda r: r.choice(SYSTEMS_SHORT),
    "algo_s": lambda r: r.choice(ALGOS_SHORT),
    "year": lambda r: str(r.randint(1800, 2020)),
    "k": lambda r: str(r.choice([3, 5, 10, 20, 50, 100])),
}


def rag(rng, style):
    doc, qs = rng.choice(DOCS)
    q = rng.choice(qs)
    return style.format(doc=doc, q=q)


SIMPLE = {
    "fact": [
        "{pre} What is the capital of {country}?", "{pre} Who invented {invention}?", "{pre} When was {person} born? Just the year is enough.",
        "What is the capital of {country}?", "capital of {country}?", "who invented {invention}",
        "When was {person} born?", "Who was {person}?", "What year did {person} die?",
        "What's the population of {capital} roughly?", "which continent is {country} in",
        "What currency does {country} use?", "How tall is Mount Everest?",
        "How many bones are in the human body?", "what language do they speak in {country}?",
        "Who wrote Pride and Prejudice?", "What is the boiling point of water in Fahrenheit?",
        "how far is the moon from earth", "What's the chemical symbol for gold?",
        "When did World War II end?", "Who painted the Mona Lisa?", "How many planets are in the solar system?",
        "what is the largest ocean", "Name the longest river in Africa.",
        "I'm settling an argument with my roommate and we just need one quick fact, nothing more: who actually invented {invention}? Just the name and the year please.",
        "My kid asked me this at dinner and I honestly blanked, so a one-line answer is fine: what is the capital of {country}?",
        "What is {capital} the capital of?", "How many time zones does Russia have?",
        "what year was {invention} invented", "What is the tallest animal?",
        "For a pub quiz tomorrow night our team keeps getting stuck on geography, so: which country has {capital} as its capital?",
        "Tell me the speed of light.", "How many legs does a spider have?",
    ],
    "definition": [
        "{pre} What does {word} mean?", "{pre} What is {concept}? A one-line definition is plenty.",
        "What is {concept}?", "define {word}", "What does '{word}' mean?", "meaning of {word}",
        "Explain {concept} in one sentence.", "{concept} definition", "What's {concept}? short answer pls",
        "Can you tell me what the word {word} means?", "ELI5 {concept} in two lines",
        "what does the acronym {acro} stand for", "Give me a synonym for {word}.",
        "What's the opposite of {word}?", "Is '{word}' a noun or an adjective?",
        "I keep seeing the word '{word}' in this book I'm reading and from context I can't quite work out what it means. Could you give me a quick dictionary-style definition?",
        "In one short sentence, what is {concept}?", "whats {concept}", "What is Python?",
        "Quick definition of {concept}, no details needed.", "What is meant by {concept}?",
        "My manager used the term {concept} in a meeting today and everyone nodded, but I have no idea what it is. What does it mean, in plain words?",
        "give an example sentence using {word}", "how do you pronounce {word}",
    ],
    "translation": [
        "{pre} How do you say \"{phrase}\" in {lang}?", "{pre} What does '{foreign}' mean?",
        "Translate '{phrase}' to {lang}.", "how do you say {phrase} in {lang}", "{phrase} in {lang}?",
        "What does '{foreign}' mean in English?", "translate to english: {foreign}",
        "Can you translate \"{phrase}\" into {lang} for me?", "{lang} for '{phrase}'",
        "What's the {lang} word for {word2}?", "Translate this into {lang}: {phrase}",
        "I'm travelling next week and want to be polite with the locals. How would I say '{phrase}' in {lang}? Just the translation is fine, thanks.",
        "quick translation pls: '{foreign}'", "what language is '{foreign}' and what does it mean",
        "How do I write {phrase} in {lang}?", "Say '{phrase}' in {lang} and {lang2}.",
        "Please put this sentence into {lang}: '{phrase}, and thanks again for everything.'",
    ],
    "grammar": [
        "{pre} Is this grammatically correct: '{bad}'?", "{pre} How is {misspelled} spelled properly?",
        "Fix the grammar: {bad}", "Is this sentence correct? '{bad}'", "correct this: {bad}",
        "How do you spell {misspelled} correctly?", "Is it '{misspelled}' or something else?",
        "proofread: {bad}", "Can you fix the typos in this: {bad}",
        "Which is right, 'affect' or 'effect' in 'it will ___ the result'?",
        "spelling of {misspelled}?", "Please correct the grammar in the following sentence and don't change anything else: \"{bad}\"",
        "grammar check '{bad}'", "Is 'whom' correct in 'to whom it may concern'?",
        "Rewrite with correct punctuation: {bad}", "My boss is going to read this email and I'm not a native speaker, so could you just fix the mistakes in this one line without rewording it: {bad}",
        "Should it be 'fewer' or 'less' here: '{bad}'", "capitalize this properly: {bad}",
    ],
    "conversion": [
        "{pre} How much is {conv}?", "{pre} Can you convert {conv} for me?",
        "Convert {conv}.", "{conv}?", "how many {unit_small} in a {unit_big}",
        "What is {conv}?", "{n} Celsius in Fahrenheit", "How much is {conv}",
        "convert {conv} please", "What's {n}% of {n2}?", "How many seconds are in a day?",
        "{conv_from} is how many in metric?", "Quick one: {conv}",
        "I'm following an American recipe that says {n} cups of flour and I only have a kitchen scale. Roughly how many grams is that?",
        "what's {n} times {n2}", "Is {n} kg more than {n2} pounds?", "How many ounces in a pound?",
        "My car's manual lists the tyre pressure in psi but the gauge at the petrol station only shows bar, so: what is {n} psi in bar?",
        "How many minutes is {n} hours?", "what is {n} squared",
    ],
    "sentiment": [
        "{pre} Is this review positive or negative? {review}",
        "What is the sentiment of this review? {review}", "{review}\n\nPositive or negative?",
        "Classify the sentiment (positive/negative/neutral): \"{review}\"",
        "Here's a review of a {product}: {review} -- is the customer happy?",
        "Sentiment? {review}", "is this review positive: {review}",
        "Label this tweet's tone: '{tweet}'", "{review} What's the sentiment?",
        "Rate the sentiment of this from 1 to 5: {review}",
        "Customer feedback on our {product}: \"{review}\" Tell me in one word if it's positive or negative.",
        "Is the following message angry, happy or neutral? {review}",
        "pos or neg: {tweet}", "Would you say this {product} review is favourable? {review}",
    ],
    "spam": [
        "{pre} Is this spam: {email}",
        "Is this email spam? {email}", "{email}\n\nspam or not spam?", "spam? -> {email}",
        "Classify as spam or ham: \"{email}\"", "Does this look like a phishing message: {email}",
        "I got this text message: {email} Is it a scam?", "Label this message as SPAM or OK: {email}",
        "Just answer yes or no, is this spam: {email}", "Got this in my inbox this morning, is it legit or junk? \"{email}\"",
        "should I mark this as spam? {email}", "Tag this email (spam / not spam): {email}",
    ],
    "extraction": [
        "Extract all person names from this text: {news}", "List the organizations mentioned: {news}",
        "{news}\n\nWhat dates are mentioned?", "Pull out the email address from: 'Contact {name} at {mail} or call {phone}.'",
        "What's the phone number in this: 'Hi, this is {name}, call me back at {phone} after 5pm.'",
        "Extract the invoice number and total from: 'Invoice INV-{inv} dated {date}. Total due: ${amount}.'",
        "From this text, list the locations: {news}", "Get the company name from this sentence: {news}",
        "Find the price in this text: {news}", "Return a JSON with name and email from: 'Regards, {name} <{mail}>'",
        "Which numbers appear in the following paragraph? {news}",
        "Who is mentioned in this article? {news}", "extract the date: 'The package from {name} arrived on {date}.'",
        "What is the order number? 'Your order #{inv} for {product} has shipped to {capital}.'",
        "Highlight the named entities (people, places, orgs) in: {news}",
    ],
    "summary": [
        "Summarize this in one sentence: {text}", "TL;DR: {text}", "{text}\n\nsummarize pls",
        "Give me a one-line summary of the following: {text}", "Can you shorten this to a tweet? {text}",
        "What is the main point of this paragraph? {text}", "Sum up in 10 words: {text}",
        "{text} -- what's this about, briefly?", "Condense into a headline: {text}",
        "Summarize the key fact here: {text}", "In a few words, what happened? {text}",
        "Give me three bullet points summarizing: {text}",
    ],
    "yesno": [
        "{pre} Is {capital} the capital of {country}? yes or no", "{pre} Is {n} a prime number?", "{pre} Are tomatoes fruits?",
        "Is {capital} the capital of {country}?", "Is a tomato a fruit?", "Can dogs eat chocolate?",
        "Is {concept} the same as {concept2}?", "Did {person} win a Nobel prize?", "is the sun a star",
        "Is {n} a prime number?", "Does Python use indentation for blocks?", "Is Pluto still a planet?",
        "Was {person} alive in {year}?", "Is it safe to drink tap water in {country}?", "Are bats mammals?",
        "yes or no: is {capital} in {country}?", "Do penguins live in the Arctic?",
        "Is {word} a real English word?", "Is {country} in the EU?", "Can you microwave aluminum foil?",
        "Just a yes or no, I don't need an explanation: does {country} drive on the left side of the road?",
        "Is HTML a programming language?", "Is zero an even number?", "does water expand when it freezes",
    ],
    "rag": [
        lambda r: rag(r, "Context: {doc}\n\nQuestion: {q}"),
        lambda r: rag(r, "{doc}\n\nBased on the text above, {q}"),
        lambda r: rag(r, "Using only this document, answer: {q}\n\nDocument: {doc}"),
        lambda r: rag(r, "Here is our policy: \"{doc}\" {q}"),
        lambda r: rag(r, "{q} (see: {doc})"),
        lambda r: rag(r, "According to the passage, {q} Passage: {doc}"),
        lambda r: rag(r, "doc: {doc}\nq: {q}"),
        lambda r: rag(r, "I copied this from the FAQ: {doc} -- so, {q}"),
        lambda r: rag(r, "Answer from the snippet. Snippet: {doc} Q: {q}"),
        lambda r: rag(r, "Read this and tell me: {q}\n---\n{doc}\n---"),
        lambda r: rag(r, "Given the following info: {doc}\n{q} Answer in one line."),
        lambda r: rag(r, "[retrieved] {doc} [/retrieved] user: {q}"),
    ],
}

COMPLEX = {
    "math_reasoning": [
        "Prove that {theorem}.", "prove {theorem}", "{problem}", "Can you show me why {theorem}?",
        "Explain {puzzle} and prove the right answer.", "Derive the formula for the sum of a geometric series.",
        "Solve step by step: {problem}", "Why is {theorem}? Give a rigorous proof.",
        "Prove by induction that {theorem}.", "Is it true that {theorem}? Justify it formally.",
        "{problem} Please show every step, my teacher wants the reasoning.",
        "Work out {puzzle} with a simulation argument and the exact probability.",
        "Find all integer solutions of x^2 - y^2 = 2024 and explain.", "Show that {theorem}, then generalise.",
        "What's the expected number of rolls of a die to see all six faces? derive it",
        "Prove {theorem} without using contradiction, if possible.",
        "Help me understand {puzzle}; my intuition keeps telling me the wrong answer.",
        "Compute the integral of x^2 e^x dx and explain each step.",
        "Find the eigenvalues of [[2,1],[1,2]] and interpret them geometrically.",
        "Two players alternately take 1 to 3 stones from a pile of 21; the one taking the last loses. Who wins with perfect play?",
    ],
    "code_generation": [
        "Write {algo_s} in {plang}.", "Implement {algo_s}.", "{plang} {algo_s} pls", "Code {algo_s} in {plang}", "Write a compiler.", "{pre} Can you write {algo} in {plang}?",
        "Write {algo} in {plang}.", "implement {algo} in {plang}", "{plang}: {algo}, with tests",
        "Can you code {algo} for me in {plang}? Include error handling.", "Write a {plang} function that parses ISO dates and handles time zones.",
        "Build {algo} in {plang} and explain the complexity.", "Give me a {plang} class for {algo} with unit tests.",
        "Write a SQL query that returns the top {k} customers by revenue per month, with ties.",
        "I need {algo} in {plang} for a production service, please make it thread-safe and documented.",
        "Generate a {plang} script that renames all photos in a folder by the date they were taken.",
        "code {algo} ({plang})", "Write a regex that validates email addresses and explain each part.",
        "Implement a React hook for infinite scrolling with cancellation.",
        "Write {algo} from scratch in {plang}, no libraries.", "Create a Dockerfile and compose file for a Flask app with Postgres and Redis.",
        "Port this idea to {plang}: {algo}, with a benchmark.", "Write a GitHub Actions workflow that tests, builds and deploys to AWS on tag.",
        "write a {plang} program to solve {algo2}", "Write a Terraform module for a VPC with public and private subnets.",
        "Could you please write me a small {plang} library implementing {algo}? I'd like idiomatic code.",
    ],
    "debugging": [
        "Why does this crash?\n{code}", "Fix the bug:\n{code}", "I'm getting `{error}`, how do I fix it?",
        "{error}\nwhat am I doing wrong", "This code gives the wrong result, can you debug it?\n{code}",
        "My service logs `{error}` under load but never locally. How do I track this down?",
        "debug: {code}", "Help! {error} after upgrading dependencies. Where do I start?",
        "Find the bug and explain it:\n```\n{code}\n```", "Why is this loop infinite / wrong?\n{code}",
        "This passes tests but fails in prod with {error}. Ideas?", "what's wrong here\n{code}",
        "We started seeing {error} since last week's deploy; the diff only touched config. How would you investigate?",
        "Memory keeps growing in my Node app until it crashes. How do I find the leak?",
        "My Python script is 10x slower on the server than my laptop. Diagnose possible causes.",
        "The unit tests pass one at a time but fail when run together. What could cause that?",
        "Intermittent deadlock in our Java service, here is a thread dump summary: two threads waiting on each other's locks in OrderService and PaymentService. How do I fix it properly?",
    ],
    "code_review": [
        "Review this code:\n{code}", "Code review please, focus on edge cases:\n{code}",
        "Is this idiomatic? How would you improve it?\n{code}", "Refactor this to be cleaner and safer:\n{code}",
        "Review my approach: I store sessions in a global dict in a multi-worker Flask app. Problems?",
        "What are the security issues in this snippet?\n{code}", "Can you critique this PR description and the design it proposes: we add a cache in front of every DB call with a 1h TTL.",
        "review: {code}", "Would this pass a senior engineer's code review?\n{code}",
        "Suggest improvements to performance and readability:\n```\n{code}\n```",
        "Is it a good idea to use {concept} here, or is it over-engineering? Our app has 200 users.",
        "Rewrite this {plang} snippet to be testable and explain the trade-offs:\n{code}",
        "Here's my function, what would you change before merging?\n{code}",
    ],
    "system_design": [
        "Design {sys_s}.", "architect {sys_s}", "{sys_s} system design?", "How would you build {sys_s}?", "Scale {sys_s}.", "{pre} How would you design {system}?",
        "Design {system}.", "How would you architect {system}?", "design {system}",
        "System design interview: {system}. Walk me through requirements, APIs, storage and scaling.",
        "What's the best architecture for {system} on a small budget?", "Sketch {system} with failure modes and how to handle them.",
        "I'm building {system}. Which databases, queues and caching would you choose and why?",
        "Design {system} that survives a full region outage.", "Architecture for {system}?",
        "Compare event sourcing and CRUD for {system}.", "How do I scale {system} from 1k to 1M users?",
        "plan the data model and services for {system}", "Design a schema and sharding strategy for {system}.",
        "We have a monolith doing {system}; propose a migration path to services without downtime.",
    ],
    "creative_writing": [
        "Write a {form} about {story}.", "write a {form} about {story}", "Write a story.",
        "Compose a {form} in the style of Edgar Allan Poe about {story}.", "Can you write me a funny {form} about {story}?",
        "Write the opening chapter of a novel about {story}.", "Write a wedding toast for my brother, heartfelt and a bit funny.",
        "Write a {form} where {story}, with a twist ending.", "Give me a bedtime story about {story} for a 6 year old.",
        "Write a eulogy for my grandfather, who was a carpenter and loved fishing.",
        "write a rap verse about {topic}", "Draft a dialogue between {person} and {person2} about {topic}.",
        "Write a sonnet.", "Write a haiku sequence that tells a whole story about {story}.",
        "Create a D&D campaign setting with three factions and a central mystery.",
        "Write a persuasive speech on {topic} for a high school debate.",
        "Write a product launch blog post for our new {product}, playful tone, 600 words.",
    ],
    "analysis": [
        "Analyze {topic}.", "Discuss {topic} in depth.", "What are the pros and cons of {topic}? Be thorough.",
        "Write an essay on {topic} with arguments on both sides.", "Compare {topic} and {topic2}.",
        "Why did {topic} happen, and what could have prevented it?", "critically evaluate {topic}",
        "Give me a nuanced take on {topic} with data where possible.", "{topic}: explain the main schools of thought.",
        "Assess the long-term consequences of {topic}.", "How should a policymaker think about {topic}?",
        "Break down the economics of {topic}.", "Steelman both sides of {topic}.",
        "I'm writing my thesis on {topic}; help me structure the argument and find weaknesses.",
    ],
    "planning": [
        "Make a plan to {goal}.", "Help me plan {goal_n}.", "Plan: {goal_n}", "I want to {goal}. Where do I start and what's the timeline?",
        "Create a week-by-week schedule to {goal}.", "What are the risks and milestones if we {goal}?",
        "Give me a detailed roadmap to {goal}.", "Build a budget and timeline for {goal_n}.",
        "how would you {goal}", "Draft a project plan with owners and dependencies to {goal}.",
        "Prioritise these for Q3 and justify: hiring, tech debt, the mobile app, SOC2.",
        "We need to {goal}; propose three options with trade-offs.",
    ],
    "agentic": [
        "{agent}.", "Please {agent}.", "Can you {agent}?", "Use the tools you have to {agent}.",
        "Agent task: {agent}", "Step by step, {agent}, and report back.", "I need you to {agent}, then summarise what you did.",
        "Automate this: {agent}", "Take care of this for me: {agent}", "Run this workflow: {agent}; ask me before anything irreversible.",
        "{agent}. If anything fails, retry and log it.",
    ],
    "legal_medical": [
        "{legal}?", "Legal question: {legal}.", "Medical question: {legal}?", "{legal}. I need a nuanced answer.",
        "Can you help me think through this: {legal}?", "Not looking for a lawyer yet, just understanding: {legal}",
        "My situation: {legal}. What are the risks and what should I ask a professional?",
        "Explain the relevant law or guidelines: {legal}.", "{legal}, considering exceptions and edge cases",
        "Is my employer allowed to read my personal messages on a work laptop in Germany?",
        "What are the differences in treatment options for early-stage prostate cancer and how do people decide?",
        "What are the tax implications of exercising ISOs vs NSOs before an IPO?",
    ],
}

# slots only some templates use
EXTRA_SLOTS = {
    "acro": lambda r: r.choice(["NASA", "HTTP", "GDP", "CPU", "FAQ", "ASAP", "DIY", "JSON", "SaaS", "KPI", "ETA", "GPU"]),
    "word2": lambda r: r.choice(["apple", "window", "friend", "cheese", "bicycle", "book", "rain", "sun", "dog", "bread"]),
    "lang2": lambda r: r.choice(LANGS),
    "unit_small": lambda r: r.choice(["ounces", "centimeters", "milliliters", "seconds", "grams", "inches"]),
    "unit_big": lambda r: r.choice(["pound", "meter", "liter", "hour", "kilogram", "foot"]),
    "n2": lambda r: r.choice(NUMS),
    "tweet": lambda r: r.choice(["can't believe my flight got cancelled AGAIN, thanks for nothing",
                                  "just got the job!!! best day ever", "meh, the new season is ok i guess",
                                  "this coffee shop never disappoints <3", "worst customer service ever, 0/10",
                                  "the update finally fixed the battery drain, nice"]),
    "name": lambda r: r.choice(["John Miller", "Sara Kim", "Ahmed Hassan", "Lucia Rossi", "Tom Becker", "Mei Lin"]),
    "mail": lambda r: r.choice(["john.m@example.com", "sara.kim@acme.io", "ahassan@mail.org", "lucia@rossi.it"]),
    "phone": lambda r: r.choice(["555-0134", "+44 20 7946 0958", "(212) 555-7788", "030 1234567"]),
    "inv": lambda r: str(r.randint(1000, 99999)),
    "date": lambda r: r.choice(["March 3, 2024", "2023-11-17", "12/05/2022", "1 June 2025"]),
    "amount": lambda r: f"{r.randint(20, 9000)}.{r.randint(0, 99):02d}",
    "concept2": lambda r: r.choice(CONCEPTS),
    "person2": lambda r: r.choice(PEOPLE),
    "topic2": lambda r: r.choice(ANALYSIS_TOPICS),
    "algo2": lambda r: r.choice(ALGOS),
    "script_task": lambda r: r.choice(SCRIPT_TASKS),
    "doc": lambda r: r.choice(DOCS)[0],
}
SLOTS.update(EXTRA_SLOTS)
# the short COMPLEX requests: fixed texts, one template each
for _cat, _texts in SHORT_COMPLEX.items():
    COMPLEX[_cat].extend(_texts)

# more phrasings per category (real users ask the same thing many ways)
MORE_SIMPLE = {
    "fact": ["Which country is {capital} in?", "who discovered penicillin", "What's the official language of {country}?",
             "In what year did the Berlin Wall fall?", "what is {person} famous for? one line",
             "Quick fact check: is {capital} the largest city in {country}, or just the capital?"],
    "definition": ["Give me a synonym for {word}.", "what's another word for {word}", "What does {acro} mean?",
                   "Explain what {concept} is to a beginner in a sentence or two.", "{word}: meaning?",
                   "I'm reading an article that keeps mentioning {concept} and I feel silly for asking, but what exactly is it? A short plain-English definition is all I need.",
                   "What is the plural of {word2}?", "definition of {concept} pls", "Is there a simpler word for '{word}'?"],
    "translation": ["How would a native speaker say '{phrase}' in {lang}?", "'{phrase}' -> {lang}",
                    "Translate the word '{word2}' into {lang}.", "english of '{foreign}'?",
                    "Could you tell me what '{foreign}' means? A friend texted it to me."],
    "grammar": ["Is there a typo in this sentence: '{bad}'?", "fix spelling pls: {misspelled}",
                "Correct the mistakes, keep the wording: {bad}", "{bad} <- is this correct English?",
                "Which is correct: '{misspelled}' or the other spelling?",
                "Rewrite this line so it's grammatically correct, nothing fancy: {bad}",
                "Can you check the spelling of '{misspelled}'?"],
    "conversion": ["{n} km in miles?", "convert {n} euros to dollars roughly", "How many cm is {n} inches?",
                   "What's {n} Fahrenheit in Celsius?", "{n} oz to g", "How many days are in {n} weeks?",
                   "What time is 3pm EST in London?", "Round {n} to the nearest whole number."],
    "sentiment": ["Rate the sentiment of this from 1 to 5: {review}", "Is this tweet positive or negative? '{tweet}'",
                  "Does this customer sound satisfied? {review}", "Mood of this message in one word: {review}",
                  "{review}\n\nHow does the writer feel about the {product}?", "positive, negative or mixed? {review}",
                  "Quick sentiment label for a dashboard: \"{review}\""],
    "spam": ["Is this message a scam or real? {email}", "phishing or legit: {email}",
             "My mom forwarded me this, should I tell her to delete it? {email}"],
    "extraction": ["What's the email address in: 'You can reach {name} at {mail}.'",
                   "List every company mentioned here: {news}", "What is the total on this invoice? 'Invoice INV-{inv}, {date}, total ${amount}'",
                   "Find the date in this message: 'Hi, {name} here, the delivery is scheduled for {date}.'",
                   "Give me just the numbers from this text: {news}"],
    "summary": ["Summarize in two sentences: {text}", "Short summary please:\n{text}",
                "What's the gist of this? {text}", "Make this one line for a slide: {text}"],
    "yesno": ["Is {n} an even number?", "Does {country} use the euro?", "Is a whale a fish?", "Is {word} an adjective?",
              "Is it true that {person} was a scientist?", "Do I need a visa to visit {country} as an EU citizen? Yes or no is fine.",
              "Is the Great Wall visible from space?", "Is {capital} in {country}? just yes/no"],
    "rag": [lambda r: rag(r, "Policy text: {doc}\n\nMy question: {q}"),
            lambda r: rag(r, "{q}\nThe relevant part of the manual says: {doc}"),
            lambda r: rag(r, "From the help article below, {q}\n\n{doc}")],
}
MORE_COMPLEX = {
    "math_reasoning": ["Prove that {theorem} and explain the key idea.", "Give a proof that {theorem}.",
                       "{problem} I want the full reasoning, not just the number.", "Explain why {puzzle} confuses people and give the correct analysis.",
                       "Find a closed form for the recurrence a(n) = 2a(n-1) + 1 with a(0) = 0 and prove it."],
    "code_generation": ["Write a {plang} script that {script_task}.", "I need a {plang} function that {script_task}; add tests.",
                        "Write me a small program in {plang} to {script_task}."],
    "debugging": ["Getting {error} when I run this, why?\n{code}", "Production keeps throwing {error}. Walk me through debugging it.",
                  "My code fails with {error}. What are the likely causes and how do I confirm each?",
                  "Why does this give the wrong answer? {code}", "Tests went red after a refactor with {error}, how do I bisect this?"],
    "code_review": ["Please review:\n```\n{code}\n```\nWhat would you flag?", "Give me honest code review feedback on this:\n{code}",
                    "Would you approve this change? Why or why not?\n{code}", "Is this snippet safe and maintainable?\n{code}",
                    "Review my design: every microservice shares one database. What breaks as we grow?"],
    "system_design": ["Design the backend for {system}.", "How should we architect {system} for high availability?",
                      "What components would {system} need, and how do they talk to each other?",
                      "Propose an architecture for {system}, including caching, queues and monitoring.",
                      "Help me design {sys_s} from scratch."],
    "creative_writing": ["Write a {form} about {story}, melancholic tone.", "Could you write a short {form} about {story} for my daughter?",
                         "Write a speech for my best friend's wedding, about 3 minutes.", "Write a cover letter for a barista job that makes me sound fun."],
    "analysis": ["What are the main arguments for and against {topic}?", "Explain the trade-offs involved in {topic}.",
                 "Give me a critical analysis of {topic}.", "How has {topic} changed over the last 20 years and why?",
                 "Why is housing so expensive in big cities? Go deep.", "Compare the economic arguments around {topic} and {topic2}."],
    "planning": ["Plan out how to {goal}, with milestones.", "Can you make me a step-by-step plan for {goal_n}?",
                 "What's a realistic schedule to {goal}?", "Plan my week: 3 deadlines, a dentist appointment and a trip on Friday."],
    "agentic": ["Go ahead and {agent}.", "Your task: {agent}. Use whatever tools you need.",
                "Could you {agent} while I'm in meetings?", "Handle this end to end: {agent}",
                "Triage today's support tickets and assign them.", "Check my calendar and move all Friday meetings to next week."],
    "legal_medical": ["{legal}? What would a professional consider?", "Help me understand my options: {legal}",
                      "I need advice: {legal}", "What are the risks here: {legal}?",
                      "Can my employer fire me for this?", "Is this lump something to worry about?"],
}
for _table, _more in ((SIMPLE, MORE_SIMPLE), (COMPLEX, MORE_COMPLEX)):
    for _cat, _ts in _more.items():
        _table[_cat].extend(_ts)

# COMPLEX requests about the same kind of pasted text the SIMPLE categories
# use (reviews, emails, articles, documents): the request, not the paste,
# decides the label
MORE_COMPLEX_PASTE = {
    "analysis": ["Analyze the business implications of this article in depth, including second-order effects: {news}",
                 "Here is a customer review: {review}\n\nWrite a detailed root-cause analysis of what went wrong in our service and what it says about our processes.",
                 "{news}\n\nWhat are the long-term economic and political consequences of this? Argue both sides.",
                 "Critically assess this policy for fairness and unintended consequences, with examples: {doc}"],
    "creative_writing": ["Turn this news story into a short piece of fiction told by a bystander: {news}",
                         "Write a funny poem based on this review: {review}",
                         "Write a short story that starts with this email: {email}"],
    "code_generation": ["Write a {plang} program that reads documents like this one and extracts every field into JSON with a schema and tests: {doc}",
                        "Build a {plang} classifier pipeline (training, evaluation, CLI) for reviews like: {review}",
                        "Write a {plang} service that ingests emails like the one below, scores them for phishing and exposes an API:\n{email}"],
    "planning": ["Based on this complaint, draft a detailed recovery plan for our support team with owners and deadlines: {review}",
                 "Here's the announcement: {news}\nPlan our company's response over the next quarter, with risks and milestones.",
                 "Using this policy as the starting point, plan a rollout to 2,000 employees in four countries: {doc}"],
    "legal_medical": ["Is this policy legal under EU consumer law, and where could it be challenged? {doc}",
                      "I received this message: {email}\nIf I already clicked the link and typed my bank password, what are my legal rights and what should I do, step by step?"],
    "agentic": ["Read this review, look up the order in our system, issue a refund if it qualifies and email the customer: {review}",
                "For every article like this one, search for related coverage, summarise it and post a digest to Slack each morning: {news}",
                "Go through my inbox, find every message like this one, report them, block the senders and write me a summary: {email}"],
    "math_reasoning": ["Using the numbers in this text, build a model of the costs and work out the break-even point, showing every step: {doc}",
                       "From this article, estimate the cost per kilometer or per unit, state your assumptions and check them: {news}"],
}
for _cat, _ts in MORE_COMPLEX_PASTE.items():
    COMPLEX[_cat].extend(_ts)

# ------------------------------------------------------------- second half
# tools/router_data_more.py: more entities, whole-request items and about
# three times the templates per category (so that each split holds many
# phrasings per category, not a handful); merged in place, so the SLOTS
# above (which read the pools by name) see the longer pools.
import router_data_more as _more  # noqa: E402

for _pool, _add in ((COUNTRIES, _more.COUNTRIES), (PEOPLE, _more.PEOPLE),
                    (THINGS_INVENTED, _more.THINGS_INVENTED), (CONCEPTS, _more.CONCEPTS),
                    (WORDS, _more.WORDS), (LANGS, _more.LANGS), (PHRASES, _more.PHRASES),
                    (FOREIGN, _more.FOREIGN), (BAD_SENTENCES, _more.BAD_SENTENCES),
                    (MISSPELLED, _more.MISSPELLED), (CONVERSIONS, _more.CONVERSIONS),
                    (NUMS, _more.NUMS), (PRODUCTS, _more.PRODUCTS), (PREAMBLES, _more.PREAMBLES),
                    (THEOREMS, _more.THEOREMS), (WORD_PROBLEMS, _more.WORD_PROBLEMS),
                    (PUZZLES, _more.PUZZLES), (ALGOS, _more.ALGOS), (SYSTEMS, _more.SYSTEMS),
                    (STORY_SUBJECTS, _more.STORY_SUBJECTS), (ANALYSIS_TOPICS, _more.ANALYSIS_TOPICS),
                    (GOALS, _more.GOALS), (GOALS_N, _more.GOALS_N), (AGENT_TASKS, _more.AGENT_TASKS),
                    (LEGAL_MED, _more.LEGAL_MED), (SCRIPT_TASKS, _more.SCRIPT_TASKS),
                    (COMPLEX_CONTEXTS, _more.COMPLEX_CONTEXTS)):
    _pool.extend(x for x in _add if x not in _pool)
assert len(GOALS) == len(GOALS_N)
SPLIT_POOLS.update(_more.NEW_SPLIT_POOLS)
# pasted documents and news paragraphs are dealt too (the leakage filter
# dropped nearly every held-out RAG and summary query, whose long shared
# paste made it a near-duplicate of a train query): a held-out RAG, summary
# or extraction query is about a text never seen in training
DOCS.extend(_more.DOCS)
NEWS.extend(_more.NEWS)
TEXTS_TO_SUMMARIZE[:] = NEWS + [d for d, _ in DOCS]
SPLIT_POOLS.update({"docs": DOCS, "news": NEWS})
SLOTS.update(_more.slots(SLOTS))
SIMPLE_CONTEXTS = _more.SIMPLE_CONTEXTS
_dealt_rag = rag


def rag(rng, style):   # noqa: F811  (half the documents composite)
    if rng.random() < 0.5:
        doc, q = _more.composite_doc(rng, SLOTS)
        return style.format(doc=doc, q=q)
    return _dealt_rag(rng, style)


def _half(composite, dealt):
    return lambda r: composite(r, SLOTS) if r.random() < 0.5 else dealt(r)


SLOTS["news"] = _half(_more.composite_news, SLOTS["news"])
SLOTS["doc"] = _half(lambda r, b: _more.composite_doc(r, b)[0], SLOTS["doc"])
SLOTS["text"] = _half(lambda r, b: (_more.composite_news(r, b) if r.random() < 0.5
                                    else _more.composite_doc(r, b)[0]), SLOTS["text"])


def _rag_style(style):
    return lambda r: rag(r, style)


for _table, _add in ((SIMPLE, _more.SIMPLE), (COMPLEX, _more.COMPLEX),
                     (SIMPLE, _more.SHORT_SIMPLE), (COMPLEX, _more.SHORT_COMPLEX),
                     (SIMPLE, _more.SHORT_SIMPLE_2), (COMPLEX, _more.SHORT_COMPLEX_2),
                     (SIMPLE, _more.MORE_SIMPLE_3), (COMPLEX, _more.MORE_COMPLEX_3),
                     (SIMPLE, _more.MORE_SIMPLE_4), (COMPLEX, _more.MORE_COMPLEX_4)):
    for _cat, _ts in _add.items():
        for _t in _ts:
            if "{q}" in _t:   # a RAG question must be about its own document
                _t = _rag_style(_t)
            if callable(_t) or _t not in _table[_cat]:
                _table[_cat].append(_t)

# tools/router_data_fresh.py: a third batch of templates, written for
# structural variety (imperative/question/fragment/third person, topic words
# of the other label)
import router_data_fresh as _fresh  # noqa: E402

SLOTS.update(_fresh.slots(SLOTS))
for _pool, _add in ((DOCS, _fresh.DOCS), (NEWS, _fresh.NEWS), (AGENT_TASKS, _fresh.AGENT_TASKS),
                    (LEGAL_MED, _fresh.LEGAL_MED), (ANALYSIS_TOPICS, _fresh.ANALYSIS_TOPICS),
                    (WORD_PROBLEMS, _fresh.WORD_PROBLEMS), (_more.SYMPTOMS, _fresh.SYMPTOMS),
                    (_more.DESIGNS, _fresh.DESIGNS)):
    _pool.extend(x for x in _add if x not in _pool)
TEXTS_TO_SUMMARIZE[:] = NEWS + [d for d, _ in DOCS]
for _table, _add in ((SIMPLE, _fresh.FRESH_SIMPLE), (COMPLEX, _fresh.FRESH_COMPLEX),
                     (SIMPLE, _fresh.CUE_SIMPLE), (COMPLEX, _fresh.CUE_COMPLEX),
                     (SIMPLE, _fresh.MORE_SIMPLE_6), (COMPLEX, _fresh.MORE_COMPLEX_6),
                     (SIMPLE, _fresh.MORE_SIMPLE_7), (COMPLEX, _fresh.MORE_COMPLEX_7)):
    for _cat, _ts in _add.items():
        for _t in _ts:
            if "{q}" in _t:
                _t = _rag_style(_t)
            if callable(_t) or _t not in _table[_cat]:
                _table[_cat].append(_t)

# ============================================================ surface transforms

GREETINGS = ["", "", "", "", "", "Hi, ", "Hey ", "hello! ", "Quick question: ", "Hi there. ", "yo ",
             "Good morning! ", "Sorry to bother you, but ", "Excuse me, ", "Ok so ", "Hey assistant, "]
ENDINGS = ["", "", "", "", "", " Thanks!", " thx", " Thank you in advance.", " please", " pls",
           " :)", " Cheers.", " Much appreciated!", " ty", " Thanks a lot."]
KEYBOARD = "qwertyuiopasdfghjklzxcvbnm"


def typo(rng, text):
    words = text.split(" ")
    cand = [i for i, w in enumerate(words) if len(w) > 3 and w.isalpha()]
    for i in rng.sample(cand, min(len(cand), rng.randint(1, 2))):
        w = list(words[i])
        j = rng.randrange(1, len(w) - 1)
        op = rng.randrange(4)
        if op == 0:
            w[j], w[j + 1] = w[j + 1], w[j]
        elif op == 1:
            del w[j]
        elif op == 2:
            w.insert(j, w[j])
        else:
            w[j] = rng.choice(KEYBOARD)
        words[i] = "".join(w)
    return " ".join(words)


def surface(rng, text):
    if rng.random() < 0.35:
        g = rng.choice(GREETINGS)
        if g and text[:1].isupper() and not text.startswith(("I ", "I'")) and rng.random() < 0.5:
            text = text[0].lower() + text[1:]
        text = g + text
    if rng.random() < 0.3 and "\n" not in text[-30:]:
        text = text + rng.choice(ENDINGS)
    if rng.random() < 0.25:
        text = typo(rng, text)
    r = rng.random()
    if r < 0.25:
        text = text.lower()
    elif r < 0.28:
        text = text.upper()
    if rng.random() < 0.2:
        text = text.rstrip("?.!")
    if rng.random() < 0.05:
        text = text + "??"
    return text.strip()


SLOT_RE = re.compile(r"\{(\w+)\}")


def fill(rng, template):
    if callable(template):
        return template(rng)
    return SLOT_RE.sub(lambda m: SLOTS[m.group(1)](rng), template)


# ============================================================ assembly

def template_core(t):
    """A template's wording without the {pre} preamble, case or punctuation."""
    s = t.replace("{pre}", "").lower()
    return " ".join(re.sub(r"[^a-z0-9{}]+", " ", s).split())


def template_groups(templates):
    """Templates that are the same request (one the other with a preamble, or
    one's wording of >= 3 words inside the other's) in one group, so that
    they land in the same split."""
    parent = list(range(len(templates)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i
    cores = [None if callable(t) else template_core(t) for t in templates]
    for i, a in enumerate(cores):
        for j, b in enumerate(cores[:i]):
            if a is None or b is None:
                continue
            short, long_ = (a, b) if len(a) <= len(b) else (b, a)
            if a == b or (len(short.split()) >= 3 and f" {short} " in f" {long_} "):
                parent[find(i)] = find(j)
    groups = {}
    for i in range(len(templates)):
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())


# share of each category's template groups (and of each dealt pool) held out
# for validation and again for test
HELD_OUT = 0.10


def split_templates(rng, templates):
    """Indices of one category's templates dealt to train/validation/test
    (~10% test, ~10% validation, by groups of template_groups)."""
    groups = template_groups(templates)
    rng.shuffle(groups)
    n = len(templates)
    want = {"test": max(2, round(n * HELD_OUT)), "validation": max(2, round(n * HELD_OUT))}
    out = {"test": [], "validation": [], "train": []}
    for g in groups:
        split = next((s for s in ("test", "validation") if len(out[s]) < want[s]), "train")
        out[split].extend(g)
    return out


def item_key(item):
    return item[0] if isinstance(item, tuple) else item


def deal_pools(seed):
    """Item key -> split for every item of SPLIT_POOLS (and SPLIT_FOLLOW)."""
    where = {}
    for name, pool in SPLIT_POOLS.items():
        idx = list(range(len(pool)))
        random.Random(f"{seed}/pool/{name}").shuffle(idx)
        n_test = max(2, round(len(pool) * HELD_OUT))
        n_val = max(2, round(len(pool) * HELD_OUT))
        for k, i in enumerate(idx):
            where[item_key(pool[i])] = ("test" if k < n_test else
                                        "validation" if k < n_test + n_val else "train")
    for pool, lead in SPLIT_FOLLOW.values():
        for i, item in enumerate(pool):
            where[item_key(item)] = where[item_key(SPLIT_POOLS[lead][i])]
    return where


class SplitRandom(random.Random):
    """random.Random whose choice()/sample() over a list of split-dealt items
    (SPLIT_POOLS, or a list built from them) only see the items of
    self.split; other lists are used whole."""

    def __init__(self, seed, where, fold_of=None):
        super().__init__(seed)
        self.where = where
        self.fold_of = fold_of or {}
        self.split = "train"
        self.fold = None

    def _part(self, seq):
        if not isinstance(seq, list) or not seq or item_key(seq[0]) not in self.where:
            return seq
        part = [x for x in seq if self.where.get(item_key(x)) == self.split]
        assert part, f"no {self.split} items in pool starting {item_key(seq[0])[:40]!r}"
        # a train query of cross-validation fold f draws the fold's items
        # (a pool too small to have some in every fold is used whole)
        if self.fold is not None:
            in_fold = [x for x in part if self.fold_of.get(item_key(x)) == self.fold]
            part = in_fold or part
        return part

    def choice(self, seq):
        return super().choice(self._part(seq))

    def sample(self, population, k, **kw):
        part = self._part(population)
        return super().sample(part, min(k, len(part)), **kw)


# train_router.py --cv: the train split's template groups and dealt pool
# items are dealt again to CV_FOLDS - 1 folds, and each train query draws
# the pool items of its template's fold; validation is the last fold. So a
# cross-validation fold holds out phrasings AND whole requests / pasted
# texts never seen by its training folds, as the test split does.
CV_FOLDS = 5


def deal_folds(seed, where):
    """Train item key -> fold 0..CV_FOLDS-2, per pool (seeded)."""
    fold_of = {}
    for name, pool in SPLIT_POOLS.items():
        keys = [item_key(x) for x in pool if where[item_key(x)] == "train"]
        random.Random(f"{seed}/folds/{name}").shuffle(keys)
        for k, key in enumerate(keys):
            fold_of[key] = k % (CV_FOLDS - 1)
    for pool, lead in SPLIT_FOLLOW.values():
        for i, item in enumerate(pool):
            key = item_key(SPLIT_POOLS[lead][i])
            if key in fold_of:
                fold_of[item_key(item)] = fold_of[key]
    return fold_of


def train_folds(seed, cat, templates, train_idxs):
    """Template index -> fold 0..CV_FOLDS-2 for a category's train templates,
    by template group (seeded, its own random stream)."""
    groups = [g for g in template_groups(templates) if g[0] in set(train_idxs)]
    random.Random(f"{seed}/folds/{cat}").shuffle(groups)
    return {t: k % (CV_FOLDS - 1) for k, g in enumerate(groups) for t in g}


def generate(seed, per_label):
    out = {"train": [], "validation": [], "test": []}
    seen = {}
    where = deal_pools(seed)
    fold_items = deal_folds(seed, where)
    for label, cats in (("SIMPLE", SIMPLE), ("COMPLEX", COMPLEX)):
        per_category = -(-per_label // len(cats))
        for cat, templates in cats.items():
            rng = SplitRandom(f"{seed}/{cat}", where, fold_items)
            parts = split_templates(rng, templates)
            fold_t = train_folds(seed, cat, templates, parts["train"])
            # each template's group (its lowest index): train_router.py --cv
            # deals whole groups to folds, as the split does
            group_of = {i: min(g) for g in template_groups(templates) for i in g}
            fixed = [t for t in templates if not callable(t) and not SLOT_RE.search(t)]
            # fixed queries take 2 each, the slotted templates share the rest
            per_template = -(-max(per_category - 2 * len(fixed), 0)
                             // max(1, len(templates) - len(fixed)))
            for split, idxs in parts.items():
                rng.split = split
                for t in sorted(idxs):
                    rng.fold = fold_t[t] if split == "train" else None
                    # a fixed query (no slots) is one request: at most 2
                    # surface variants of it, so that it does not count
                    # (and weigh in training) like a whole template's fills
                    want = per_template
                    if not callable(templates[t]) and not SLOT_RE.search(templates[t]):
                        want = 2
                    made, tries = 0, 0
                    while made < want and tries < want * 8:
                        tries += 1
                        text = fill(rng, templates[t])
                        # long background before the request, for both labels
                        # (the SIMPLE contexts are chat, the COMPLEX ones
                        # constraints; a few chatty ones precede COMPLEX too)
                        u = rng.random()
                        if label == "COMPLEX" and u < 0.12:
                            text = rng.choice(COMPLEX_CONTEXTS) + " " + text
                        elif (label == "COMPLEX" and u < 0.22) or (label == "SIMPLE" and u < 0.12):
                            text = rng.choice(SIMPLE_CONTEXTS) + " " + text
                        text = surface(rng, text)
                        key = text.lower()
                        if key in seen:
                            continue
                        seen[key] = True
                        out[split].append({"text": text, "label": label, "category": cat,
                                           "template": f"{cat}/{t:02d}",
                                           "group": f"{cat}/{group_of[t]:02d}"})
                        if split != "test":
                            out[split][-1]["fold"] = (fold_t[t] if split == "train"
                                                      else CV_FOLDS - 1)
                        made += 1
    # a validation/test query still this close to a train query (the same
    # short entity under two similar templates) is dropped
    for split, _, hits in leakage(out, limit=None):
        drop = {a for a, _ in hits}
        out[split] = [r for r in out[split] if r["text"] not in drop]
    for split in out:
        random.Random(f"{seed}/order/{split}").shuffle(out[split])
    return out


def normalized(text):
    """Lowercase words of a query without preamble, greeting or sign-off."""
    s = text.lower()
    for p in sorted([p.lower() for p in PREAMBLES + COMPLEX_CONTEXTS + SIMPLE_CONTEXTS]
                    + [g.strip().lower() for g in GREETINGS + ENDINGS
                                                      if g.strip()], key=len, reverse=True):
        s = s.replace(p, " ")
    return re.sub(r"[^a-z0-9]+", " ", s).split()


def leakage(data, jaccard=0.8, limit=5):
    """Validation/test queries whose normalized words equal, or overlap with
    Jaccard >= `jaccard`, some train query's: (split, n, examples)."""
    train = [set(normalized(r["text"])) for r in data["train"]]
    report = []
    for split in ("validation", "test"):
        hits = []
        for r in data[split]:
            w = set(normalized(r["text"]))
            for t, tw in zip(data["train"], train):
                if w and len(w & tw) / len(w | tw) >= jaccard:
                    hits.append((r["text"], t["text"]))
                    break
        report.append((split, len(hits), hits[:limit]))
    return report


def main():
    global HELD_OUT
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "data", "router"))
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--per-label", type=int, default=4500)
    ap.add_argument("--held-out", type=float, default=HELD_OUT,
                    help="share of templates for validation, and again for test")
    a = ap.parse_args()
    HELD_OUT = a.held_out
    data = generate(a.seed, a.per_label)
    os.makedirs(a.out, exist_ok=True)
    for split, rows in data.items():
        with open(os.path.join(a.out, f"{split}.jsonl"), "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        by = {}
        for r in rows:
            by[r["label"]] = by.get(r["label"], 0) + 1
        print(f"{split}: {len(rows)} {by}")
    for split, n, examples in leakage(data):
        print(f"{split}: {n} queries with word-set Jaccard >= 0.8 to a train query "
              "(after removing preambles, greetings and sign-offs)")
        for a, b in examples:
            print(f"   {a[:70]!r}  ~  {b[:70]!r}")


if __name__ == "__main__":
    main()
