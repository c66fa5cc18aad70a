#!/usr/bin/env python3
"""Generates tests/fixtures/jinja/*.json: Jinja templates rendered by the
jinja2 environment transformers builds for apply_chat_template.

Run with the project's virtualenv (jinja2 + transformers, no network):
    .venv/bin/python tools/make_jinja_fixtures.py

Every template is compiled with transformers' own _compile_jinja_template
(ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
extensions=[loopcontrols, generation]) plus raise_exception, strftime_now,
namespace, dict and its tojson), so the fixtures record exactly what
transformers produces. Chat templates are rendered through
render_jinja_template, the function apply_chat_template calls.

Output format (one file per group):
  {"generator": ..., "versions": {...},
   "cases": [{"name": str, "template": str,
              "renders": [{"vars": {...}, "expected": str}
                          | {"vars": {...}, "error": {"phase": "parse"|"render",
                                                      "type": str, "message": str}}]}]}
`vars` are the template's variables as passed to render(). Numbers in vars
are ints unless they have a fractional part (JSON cannot tell 1 from 1.0).
"""
import json
import math
import os
import sys

import jinja2
import transformers
from transformers.utils.chat_template_utils import _compile_jinja_template, render_jinja_template

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "tests", "fixtures", "jinja")
MODELS = "/work/shared/models"


# ---------------------------------------------------------------------------
# Small templates: (name, template, [variables, ...]). Expected errors are
# part of the corpus too (what jinja raises is what slm must refuse).

E = {}
MSGS = [{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"}, {"role": "user", "content": "bye"}]
USERS = [{"name": "ann", "age": 31, "active": True}, {"name": "Bob", "age": 25, "active": False},
         {"name": "cid", "age": 47, "active": True}]

CONSTRUCTS = [
    # output, literals, whitespace
    ("text only", "plain text\nwith lines\n", [E]),
    ("print variable", "Hello {{ name }}!", [{"name": "World"}, {"name": "日本"}]),
    ("string escapes", "{{ 'a\\tb\\n' }}|{{ \"it's\" }}|{{ 'q\\'s' }}|{{ '\\u00e9\\x41\\101' }}|{{ 'x' 'y' \"z\" }}", [E]),
    ("int and float literals", "{{ 1_000 }} {{ 0x1F }} {{ 0o17 }} {{ 0b101 }} {{ 1.5e3 }} {{ 2.5E-3 }} {{ 1e16 }} {{ 123456789.25 }} {{ 0.0001 }} {{ 0.00001 }} {{ 1.0 }} {{ 1.10 }}", [E]),
    ("bool and none literals", "{{ true }} {{ True }} {{ false }} {{ False }} {{ none }} {{ None }}", [E]),
    ("list dict tuple literals", "{{ [1, 'a', [2.5, none]] }} {{ {'a': 1, 'b': {'c': 'd'}} }} {{ (1,) }} {{ (1, 'x') }} {{ () }} {{ {'k': (1, 2)} }}", [E]),
    ("print repr of strings", "{{ ['it\\'s', 'say \"hi\"', 'both \\' \"', 'tab\\t', 'é'] }}", [E]),
    ("trim_blocks", "{% if true %}\nA\n{% endif %}\nB\n{% for i in [1, 2] %}\n{{ i }}\n{% endfor %}\nC", [E]),
    ("lstrip_blocks", "x\n    {% if true %}\n    y\n    {% endif %}\n\t{# comment #}\nz", [E]),
    ("lstrip does not touch prints", "a\n    {{ 'v' }}\n    {% if 1 %}x{% endif %}\n", [E]),
    ("plus disables lstrip and trim", "a\n  {%+ if true %}\n  b\n  {% endif +%}\n  c", [E]),
    ("minus strips whitespace", "a  \n {%- if true -%} \n b \n {%- endif -%}  \n c {{- ' d ' -}}  e", [E]),
    ("minus on print tags", "[  {{- 'x' -}}  ]\n  {{ 'y' }}  \n  {{- 'z' }}", [E]),
    ("comments", "{# c #}A{#- c -#}  B\n  {# line #}\nC{# multi\nline #}", [E]),
    ("raw block", "{% raw %}{{ not processed }} {% if %}{% endraw %}|  {%- raw -%}  {{ x }}  {%- endraw -%}  |", [E]),
    ("newline normalization", "x\r\ny\rz\n{% if true %}\r\n  a\r\n{% endif %}\r\n", [E]),
    ("trailing newline dropped once", "line\n\n", [E]),
    ("brace balancing in tags", "{{ {'a': {'b': 1}} }}{{ [[1]] }}", [E]),
    # control flow
    ("if elif else", "{% if x %}A{% elif y %}B{% else %}C{% endif %}", [{"x": 1}, {"y": 1}, E]),
    ("nested if", "{% if a %}{% if b %}ab{% else %}a{% endif %}{% endif %}", [{"a": True, "b": False}, {"a": True, "b": True}]),
    ("for loop basic", "{% for m in messages %}{{ m.role }}: {{ m['content'] }}\n{% endfor %}", [{"messages": MSGS}]),
    ("for loop variables", "{% for a in 'xyz' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.cycle('o', 'e') }};{% endfor %}", [E]),
    ("for loop previtem nextitem", "{% for i in [1, 2, 3] %}{{ loop.previtem }}<{{ i }}>{{ loop.nextitem }}|{% endfor %}", [E]),
    ("for else", "{% for x in items %}{{ x }}{% else %}empty{% endfor %}", [{"items": []}, {"items": [1, 2]}]),
    ("for with filter", "{% for i in [1, 2, 3, 4] if i is even %}{{ i }}/{{ loop.length }} {% endfor %}", [E]),
    ("for unpacking", "{% for a, b in [[1, 2], [3, 4]] %}{{ a }}{{ b }}{% endfor %}{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for k, v in d|items %}{{ k }}{% endfor %}", [{"d": {"x": 1, "y": "z"}}]),
    ("for over dict and string", "{% for k in d %}{{ k }}{% endfor %}|{% for c in 'héj' %}{{ c }}-{% endfor %}", [{"d": {"b": 1, "a": 2}}]),
    ("nested loops", "{% for i in [1, 2] %}{% for j in 'ab' %}{{ loop.index }}{{ i }}{{ j }} {% endfor %}{{ loop.index }}|{% endfor %}", [E]),
    ("break and continue", "{% for i in range(10) %}{% if i == 5 %}{% break %}{% endif %}{% if i is odd %}{% continue %}{% endif %}{{ i }}{% endfor %}", [E]),
    ("for else with break and continue", "{% for i in [1, 2] %}{% if i == 1 %}{% break %}{% endif %}{{ i }}{% else %}else1{% endfor %}|{% for i in [1, 2] %}{% continue %}{% else %}else2{% endfor %}|{% for i in [1, 2] %}{% if i == 2 %}{% break %}{% endif %}{% else %}else3{% endfor %}", [E]),
    ("generators are truthy", "{% if []|select('odd') %}yes{% endif %}|{% if messages|selectattr('role', 'equalto', 'nobody') %}gen{% endif %}|{{ messages|selectattr('role', 'equalto', 'nobody')|list|length }}", [{"messages": MSGS}]),
    ("loop scoping", "{% set x = 1 %}{% for i in [1, 2] %}{{ x }}{% set x = x + i %}{{ x }},{% endfor %}|{{ x }}", [E]),
    ("if does not scope", "{% if true %}{% set z = 5 %}{% endif %}{{ z }}", [E]),
    ("namespace", "{% set ns = namespace(count=0, items=[]) %}{% for m in messages %}{% if m.role == 'user' %}{% set ns.count = ns.count + 1 %}{% set ns.items = ns.items + [m.content] %}{% endif %}{% endfor %}{{ ns.count }} {{ ns.items }} {{ ns.missing is defined }}", [{"messages": MSGS}]),
    ("set forms", "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set c = 1, 2 %}{{ c }}{% set d %}inner {{ a + b }}{% endset %}[{{ d }}]{% set e | upper %}shout{% endset %}{{ e }}", [E]),
    ("macro", "{% macro greet(name, greeting='Hi') %}{{ greeting }}, {{ name }}!{% endmacro %}{{ greet('Bob') }} {{ greet('Al', greeting='Yo') }} {{ greet(name='Cy') }}", [E]),
    ("recursive macro", "{% macro rec(n) %}{% if n > 0 %}{{ n }}{{ rec(n - 1) }}{% endif %}{% endmacro %}{{ rec(4) }}", [E]),
    ("macro sees globals", "{% set g = 1 %}{% macro m() %}{{ g }}{{ v }}{% endmacro %}{% set g = 2 %}{{ m() }}", [{"v": "!"}]),
    ("macro missing argument", "{% macro m(a, b) %}[{{ a }}|{{ b }}]{% endmacro %}{{ m(1) }}", [E]),
    ("filter block", "{% filter upper %}hello {{ 'w' }}{% endfilter %}", [E]),
    ("with block", "{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}{{ a is defined }}", [E]),
    ("print statement", "{% print 'a', 'b' %}", [E]),
    ("generation block", "{% for m in messages %}{% if m.role == 'assistant' %}{% generation %}{{ m.content }}{% endgeneration %}{% else %}{{ m.content }}{% endif %}{% endfor %}", [{"messages": MSGS}]),
    # expressions
    ("arithmetic", "{{ 1 + 2 * 3 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 4 / 2 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 10 % 3.5 }} {{ 0.1 + 0.2 }} {{ 1 / 3 }} {{ -2 ** 2 }} {{ 2 ** 3 ** 2 }} {{ true + 1 }}", [E]),
    ("string and list operators", "{{ 'ab' * 3 }} {{ 2 * 'x' }} {{ [0] * 3 }} {{ [1] + [2] }} {{ 'a' + 'b' }} {{ 'a' ~ 1 ~ none ~ [1] ~ true }} {{ x ~ 'q' }}", [E]),
    ("comparisons", "{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ 1 != 2 }} {{ 2 >= 2 }} {{ none == none }} {{ x == x }} {{ [1] == (1,) }} {{ {'a': 1} == {'a': 1} }}", [E]),
    ("in and not in", "{{ 'a' in 'cat' }} {{ 'x' not in ['x'] }} {{ 2 in {2: 'a'} }} {{ 'role' in m }} {{ 'tool_calls' in m }} {{ 1 in x }}", [{"m": {"role": "user"}}]),
    ("logic operators", "{{ not true }} {{ true and 'x' }} {{ false or 'y' }} {{ none or 0 }} {{ 0 and 1 }} {{ not x }} {{ x or 'dflt' }}", [E]),
    ("conditional expression", "{{ 'a' if false }}|{{ 'b' if true else 'c' }}|{{ 1 if 0 else 2 if 0 else 3 }}|{{ ('x' if true else 'y')|upper }}", [E]),
    ("subscript and slices", "{{ 'abc'[::-1] }} {{ [1, 2, 3][1:] }} {{ [1, 2, 3][-1] }} {{ 'héllo'[1:3] }} {{ 'abcdef'[::2] }} {{ [1, 2, 3, 4][::-2] }} {{ [1, 2, 3][5:] }} {{ messages[1:]|length }} {{ messages[:-1]|map(attribute='role')|join(',') }} {{ messages.0.role }}", [{"messages": MSGS}]),
    ("attribute vs item lookup", "{{ d.a }} {{ d['a'] }} {{ d.items is defined }} {{ d['get'] is defined }} {{ d.missing }}|{{ l[10] }}|{{ 'ab'[5] }}|{{ none.foo }}", [{"d": {"a": 1}, "l": [1]}]),
    ("undefined printing", "[{{ nothing }}] {{ nothing is defined }} {{ nothing is undefined }} {{ nothing|default('d') }} {{ nothing|length }} {{ nothing|list }} {{ nothing|join }} {{ nothing|upper }} {{ not nothing }}", [E]),
    # tests
    ("tests", "{{ x is defined }} {{ y is not defined }} {{ none is none }} {{ 3 is odd }} {{ 4 is even }} {{ 'a' is string }} {{ 1 is number }} {{ true is number }} {{ [] is iterable }} {{ 'a' is iterable }} {{ {} is mapping }} {{ [] is mapping }} {{ true is true }} {{ 1 is true }} {{ false is false }} {{ 1.5 is float }} {{ 1 is integer }} {{ true is boolean }} {{ [] is sequence }} {{ d is sequence }}", [{"x": 1, "d": {}}]),
    ("tests with arguments", "{{ 6 is divisibleby 3 }} {{ 5 is divisibleby(2) }} {{ 'abc' is lower }} {{ 'ABC' is upper }} {{ 1 is sameas 1 }} {{ none is sameas none }} {{ 'upper' is filter }} {{ 'odd' is test }} {{ 3 is in [1, 2, 3] }} {{ 3 is eq 3 }} {{ 3 is ne 3 }} {{ 3 is gt 2 }} {{ 3 is ge 3 }} {{ 3 is lt 2 }} {{ 3 is le 3 }} {{ 3 is greaterthan 1 }} {{ 3 is lessthan 1 }} {{ 2 is equalto 2 }}", [E]),
    # filters
    ("string filters", "{{ 'hello wORLD-foo(bar'|title }} {{ 'hello'|capitalize }} [{{ '  x  '|trim }}] [{{ 'xxhixx'|trim('x') }}] {{ 'abc'|replace('b', 'X') }} {{ 'Hello'|replace('l', 'L', 1) }} {{ 'abc'|replace('', '-') }} {{ 'MiXed'|lower }} {{ 'MiXed'|upper }} {{ 'éa'|upper }} [{{ 'hi'|center(8) }}] {{ 'a b  c_d'|wordcount }} {{ '<a href=\"x\">&\\'</a>'|e }}", [E]),
    ("length first last join list", "{{ messages|length }} {{ [1, 2]|first }} {{ [1, 2]|last }} {{ []|first is defined }} {{ ['a', 'b']|join(', ') }} {{ [1, 2, 3]|join }} {{ 'abc'|list }} {{ users|join(', ', attribute='name') }} {{ 'hello'|length }} {{ {'a': 1}|count }}", [{"messages": MSGS, "users": USERS}]),
    ("default filter", "{{ x|default('d') }} {{ ''|default('e', true) }} {{ ''|default('e') }} {{ none|default('n') }} {{ false|default('f', boolean=true) }} {{ x|d }}|", [E]),
    ("string int float filters", "{{ 42|string }} {{ '42'|int + 1 }} {{ '4.5'|float }} {{ 3.7|int }} {{ '0x1A'|int(0, 16) }} {{ 'abc'|int(5) }} {{ ' 42 '|int }} {{ '4_2'|int }} {{ '4.9'|int }} {{ true|int }} {{ 3|float }} {{ 'x'|float }} {{ '1e3'|float }} {{ none|int }}", [E]),
    ("number filters", "{{ -3|abs }} {{ 2.5|round }} {{ 3.5|round }} {{ 2.675|round(2) }} {{ 3.14159|round(1, 'floor') }} {{ 3.14159|round(1, 'ceil') }} {{ 12|round }} {{ [1, 2, 3]|sum }} {{ [1, 2.5]|sum }} {{ [1, 2, 3]|sum(start=10) }} {{ users|sum(attribute='age') }} {{ [3, 1, 2]|max }} {{ [3, 1, 2]|min }} {{ users|max(attribute='age') }}", [{"users": USERS}]),
    ("indent filter", "{{ 'a\\nb'|indent }}|{{ 'line1\\nline2\\n\\nline3'|indent(2) }}|{{ 'a\\nb'|indent(4, true) }}|{{ 'a\\n\\nb'|indent(2, blank=true) }}|{{ 'a\\r\\nb'|indent('--') }}|{{ ''|indent }}|{{ 'x\\n'|indent(first=true) }}", [E]),
    ("sort unique reverse", "{{ [3, 1, 2]|sort }} {{ ['b', 'A', 'c']|sort }} {{ ['b', 'A', 'c']|sort(case_sensitive=true) }} {{ [3, 1, 2]|sort(true) }} {{ users|sort(attribute='age', reverse=true)|map(attribute='name')|list }} {{ users|sort(attribute='name')|map(attribute='name')|join }} {{ ['a', 'A', 'b', 'a']|unique|list }} {{ [1, 2, 3]|reverse|list }} {{ 'abc'|reverse }}", [{"users": USERS}]),
    ("dictsort items batch", "{{ {'b': 1, 'a': 2}|dictsort }} {{ {'b': 1, 'a': 2}|dictsort(by='value', reverse=true) }} {{ {'x': 1}|items|list }} {{ [1, 2, 3, 4, 5]|batch(2)|list }} {{ [1, 2, 3]|batch(2, 0)|list }}", [E]),
    ("select reject", "{{ [1, 2, 3, 4]|select('odd')|list }} {{ [1, 2, 3, 4]|reject('odd')|list }} {{ [1, 2, 3, 4]|select('>', 2)|list }} {{ [0, 1, '', 'a']|select|list }} {{ [1, 2, 3]|select('in', [2, 3])|list }}", [E]),
    ("selectattr rejectattr", "{{ messages|selectattr('role', 'equalto', 'user')|list|length }} {{ messages|rejectattr('role', 'equalto', 'user')|map(attribute='content')|join('+') }} {{ users|selectattr('active')|map(attribute='name')|list }} {{ users|selectattr('age', '>', 30)|map(attribute='name')|list }} {{ (messages|selectattr('role', '==', 'system')|first).content }}", [{"messages": MSGS, "users": USERS}]),
    ("map", "{{ [1, 2, 3]|map('string')|join('-') }} {{ users|map(attribute='name')|join(',') }} {{ users|map(attribute='nope', default='?')|list }} {{ ['a', 'b']|map('upper')|list }} {{ [' a ', 'b ']|map('trim')|list }} {{ ['x']|map('replace', 'x', 'y')|list }}", [{"users": USERS}]),
    ("tojson", "{{ [1, 'a', 2.5, none, true]|tojson }} {{ {'b': 1, 'a': [1, {'q': none}]}|tojson }} {{ {'b': 1, 'a': 2}|tojson(sort_keys=true) }} {{ 'é\"\\\\\\n\\t'|tojson }} {{ {}|tojson }} {{ []|tojson }} {{ (1, 2)|tojson }} {{ {'a': 1}|tojson(separators=(',', ':')) }} {{ 'é😀'|tojson(ensure_ascii=true) }} {{ {1: 'x', 2.5: 'y', true: 'z', none: 'n'}|tojson }}", [E]),
    ("tojson indent", "{{ {'b': 1, 'a': [1, {'q': [true, []]}], 'e': {}}|tojson(indent=2) }}\n{{ tools|tojson(indent=4) }}\n{{ [1]|tojson(indent='\\t') }}", [{"tools": [{"type": "function", "function": {"name": "get_weather", "description": "Get the weather", "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "The city"}, "unit": {"type": "string", "enum": ["c", "f"]}}, "required": ["city"]}}}]}]),
    ("attr filter", "{% set ns = namespace(x=1) %}{{ ns|attr('x') }} {{ d|attr('a') }}| {{ 'ab'|attr('upper') is defined }}", [{"d": {"a": 1}}]),
    # methods
    ("string methods", "[{{ '  a b  '.strip() }}] [{{ '  x  '.lstrip() }}] [{{ '  x  '.rstrip() }}] {{ 'xxhixx'.strip('x') }} {{ '  a b  '.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a b c'.split(' ', 1) }} {{ 'a\\nb\\r\\nc\\n'.splitlines() }} {{ 'abc'.startswith('ab') }} {{ 'abc'.endswith(('x', 'c')) }} {{ 'Hello World'.lower() }} {{ 'x'.upper() }} {{ 'hello world'.title() }} {{ \"they're bill's\".title() }} {{ 'hELLO'.capitalize() }} {{ 'aaa'.replace('a', 'b', 2) }}", [E]),
    ("more string methods", "{{ 'abcabc'.find('c') }} {{ 'abcabc'.rfind('c') }} {{ 'abcabc'.find('z') }} {{ 'abcabc'.count('bc') }} {{ '-'.join(['a', 'b']) }} {{ '123'.isdigit() }} {{ 'ab'.isalpha() }} {{ ' '.isspace() }} {{ 'AB'.isupper() }} {{ 'ab'.islower() }} {{ 'prefix_x'.removeprefix('prefix_') }} {{ 'x.txt'.removesuffix('.txt') }} {{ 'Hi'.swapcase() }} {{ ('<|' + role + '|>').upper() }}", [{"role": "user"}]),
    ("dict and list methods", "{{ d.get('a') }} {{ d.get('z', 'def') }} {{ d.get('z') }} {{ d.keys()|list }} {{ d.values()|list }} {{ d.items()|list }} {{ [1, 2, 3].index(2) }} {{ [1, 1, 2].count(1) }} {{ d['b'][1] }}", [{"d": {"a": 1, "b": [1, 2]}}]),
    ("globals", "{{ range(3)|list }} {{ range(2, 10, 3)|list }} {{ range(3, 0, -1)|list }} {{ range(5)|length }} {{ dict(a=1, b=2) }} {{ dict({'x': 1}, y=2) }} {{ strftime_now('%Y')|length }} {{ namespace(a=1).a }}", [E]),
    ("deep nesting", "{{ ((((((((((1 + 2)))))))))) }}{% for a in [1] %}{% for b in [2] %}{% for c in [3] %}{% if a %}{% if b %}{{ a + b + c }}{% endif %}{% endif %}{% endfor %}{% endfor %}{% endfor %}", [E]),
    ("messages with tool calls", "{% for m in messages %}{{ m.role }}{% if m.tool_calls %}{% for tc in m.tool_calls %} {{ tc.function.name }}({{ tc.function.arguments|tojson }}){% endfor %}{% endif %}{% if m.content is string %}: {{ m.content }}{% endif %}\n{% endfor %}", [{"messages": [{"role": "user", "content": "weather?"}, {"role": "assistant", "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris", "days": 3, "temp": 21.5}}}]}, {"role": "tool", "content": "{\"temp\": 21}"}]}]),
    # errors (render time)
    ("raise_exception", "{% if messages[0].role != 'user' %}{{ raise_exception('Conversation must start with a user message!') }}{% endif %}ok", [{"messages": MSGS}, {"messages": MSGS[1:]}]),
    ("undefined attribute error", "{{ foo.bar }}", [E]),
    ("undefined arithmetic error", "{{ x + 1 }}", [E]),
    ("undefined item of dict then attr", "{{ d.missing.x }}", [{"d": {}}]),
    ("type error concat", "{{ 'a' + 1 }}", [E]),
    ("type error compare", "{{ 'a' < 1 }}", [E]),
    ("zero division", "{{ 1 / 0 }}|{{ 1 // 0 }}", [E]),
    ("iterate none", "{% for i in none %}a{% endfor %}", [E]),
    ("unsafe method", "{% set l = [] %}{{ l.append(1) }}", [E]),
    ("namespace underscore", "{% set ns = namespace() %}{% set ns._p = 1 %}", [E]),
    ("set attribute on non-namespace", "{% set d = {} %}{% set d.x = 1 %}", [E]),
    ("too many values to unpack", "{% for a, b in [[1, 2, 3]] %}{% endfor %}", [E]),
    ("call undefined", "{{ nope() }}", [E]),
    ("inline if without else then use", "{{ (x if false).y }}", [E]),
    ("slice with bad bound", "{{ [1, 2][x:] }}", [E]),
    ("range too big", "{{ range(1000000)|length }}", [E]),
    # errors (parse time)
    ("unknown tag", "{% foo %}", [E]),
    ("unclosed if", "{% if true %}unclosed", [E]),
    ("unexpected end tag", "{% endif %}", [E]),
    ("unknown filter", "{{ x|nosuchfilter }}", [E]),
    ("unknown test", "{{ x is nosuchtest }}", [E]),
    ("bad expression", "{{ 1 + }}", [E]),
    ("unbalanced brackets", "{{ (1 }}", [E]),
    ("unterminated string", "{{ 'abc }}", [E]),
    ("break outside loop", "{% break %}", [E]),
    ("unterminated comment", "{# never closed", [E]),
    ("number followed by dot", "{{ 42. }}", [E]),
]

# ---------------------------------------------------------------------------
# Chat templates written down from memory (evaluator tests: they need not be
# byte-identical to the Hub's), as (name, template, special tokens).

LLAMA2 = r"""{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\n' + system_message + '\n<</SYS>>\n\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}"""

LLAMA3 = r"""{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>

'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>

' }}{% endif %}"""

LLAMA31 = r"""{{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- set date_string = "26 Jul 2024" %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}

{#- This block extracts the system message, so we can slot it into the right place. #}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}

{#- System message + builtin tools #}
{{- "<|start_header_id|>system<|end_header_id|>\n\n" }}
{%- if builtin_tools is defined or tools is not none %}
    {{- "Environment: ipython\n" }}
{%- endif %}
{%- if builtin_tools is defined %}
    {{- "Tools: " + builtin_tools | reject('equalto', 'code_interpreter') | join(", ") + "\n\n"}}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\n" }}
{{- "Today Date: " + date_string + "\n\n" }}
{%- if tools is not none and not tools_in_user_message %}
    {{- "You have access to the following functions. To call a function, please respond with JSON for a function call." }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
{%- endif %}
{{- system_message }}
{{- "<|eot_id|>" }}

{#- Custom tools are passed in a user message with some extra guidance #}
{%- if tools_in_user_message and not tools is none %}
    {#- Extract the first user message so we can plug it in here #}
    {%- if messages | length != 0 %}
        {%- set first_user_message = messages[0]['content']|trim %}
        {%- set messages = messages[1:] %}
    {%- else %}
        {{- raise_exception("Cannot put tools in the first user message when there's no first user message!") }}
{%- endif %}
    {{- '<|start_header_id|>user<|end_header_id|>\n\n' -}}
    {{- "Given the following functions, please respond with a JSON for a function call " }}
    {{- "with its proper arguments that best answers the given prompt.\n\n" }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
    {{- first_user_message + "<|eot_id|>"}}
{%- endif %}

{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("This model only supports single tool-calls at once!") }}
        {%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {%- if builtin_tools is defined and tool_call.name in builtin_tools %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
            {{- "<|python_tag|>" + tool_call.name + ".call(" }}
            {%- for arg_name, arg_val in tool_call.arguments | items %}
                {{- arg_name + '="' + arg_val + '"' }}
                {%- if not loop.last %}
                    {{- ", " }}
                {%- endif %}
                {%- endfor %}
            {{- ")" }}
        {%- else  %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
            {{- '{"name": "' + tool_call.name + '", ' }}
            {{- '"parameters": ' }}
            {{- tool_call.arguments | tojson }}
            {{- "}" }}
        {%- endif %}
        {%- if builtin_tools is defined %}
            {#- This means we're in ipython mode #}
            {{- "<|eom_id|>" }}
        {%- else %}
            {{- "<|eot_id|>" }}
        {%- endif %}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\n\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}
{%- endif %}
"""

MISTRAL_V1 = r"""{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}"""

MISTRAL_V3 = r"""{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content'] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}

{{- bos_token }}
{%- for message in loop_messages %}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
        {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}
    {%- endif %}
    {%- if message['role'] == 'user' %}
        {%- if loop.last and system_message is defined %}
            {{- '[INST] ' + system_message + '\n\n' + message['content'] + '[/INST]' }}
        {%- else %}
            {{- '[INST] ' + message['content'] + '[/INST]' }}
        {%- endif %}
    {%- elif message['role'] == 'assistant' %}
        {{- ' ' + message['content']|trim + eos_token}}
    {%- else %}
        {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}
    {%- endif %}
{%- endfor %}
"""

CHATML_QWEN2 = r"""{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system
You are a helpful assistant.<|im_end|>
' }}{% endif %}{{'<|im_start|>' + message['role'] + '
' + message['content'] + '<|im_end|>' + '
'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant
' }}{% endif %}"""

QWEN25 = r"""{%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
    {%- else %}
        {{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\n<tool_call>\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- message.content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
"""

SMOLLM2 = """{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system
You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>
' }}{% endif %}{{'<|im_start|>' + message['role'] + '
' + message['content'] + '<|im_end|>' + '
'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant
' }}{% endif %}"""

GEMMA = r"""{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}"""

GEMMA3 = r"""{{ bos_token }}
{%- if messages[0]['role'] == 'system' -%}
    {%- if messages[0]['content'] is string -%}
        {%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}
    {%- else -%}
        {%- set first_user_prefix = messages[0]['content'][0]['text'] + '\n\n' -%}
    {%- endif -%}
    {%- set loop_messages = messages[1:] -%}
{%- else -%}
    {%- set first_user_prefix = "" -%}
    {%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
        {{ raise_exception("Conversation roles must alternate user/assistant/user/assistant/...") }}
    {%- endif -%}
    {%- if (message['role'] == 'assistant') -%}
        {%- set role = "model" -%}
    {%- else -%}
        {%- set role = message['role'] -%}
    {%- endif -%}
    {{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else "") }}
    {%- if message['content'] is string -%}
        {{ message['content'] | trim }}
    {%- elif message['content'] is iterable -%}
        {%- for item in message['content'] -%}
            {%- if item['type'] == 'image' -%}
                {{ '<start_of_image>' }}
            {%- elif item['type'] == 'text' -%}
                {{ item['text'] | trim }}
            {%- endif -%}
        {%- endfor -%}
    {%- else -%}
        {{ raise_exception("Invalid content type") }}
    {%- endif -%}
    {{ '<end_of_turn>\n' }}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{'<start_of_turn>model\n'}}
{%- endif -%}
"""

ZEPHYR = """{% for message in messages %}
{% if message['role'] == 'user' %}
{{ '<|user|>
' + message['content'] + eos_token }}
{% elif message['role'] == 'system' %}
{{ '<|system|>
' + message['content'] + eos_token }}
{% elif message['role'] == 'assistant' %}
{{ '<|assistant|>
'  + message['content'] + eos_token }}
{% endif %}
{% if loop.last and add_generation_prompt %}
{{ '<|assistant|>' }}
{% endif %}
{% endfor %}"""

PHI3_APRIL = r"""{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') %}{{'<|user|>' + '\n' + message['content'] + '<|end|>' + '\n' + '<|assistant|>' + '\n'}}{% elif (message['role'] == 'assistant') %}{{message['content'] + '<|end|>' + '\n'}}{% endif %}{% endfor %}"""

PHI3_JULY = """{% for message in messages %}{% if message['role'] == 'system' and message['content'] %}{{'<|system|>
' + message['content'] + '<|end|>
'}}{% elif message['role'] == 'user' %}{{'<|user|>
' + message['content'] + '<|end|>
'}}{% elif message['role'] == 'assistant' %}{{'<|assistant|>
' + message['content'] + '<|end|>
'}}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>
' }}{% else %}{{ eos_token }}{% endif %}"""

# A template in the style of tool-use models that describe schemas with a
# recursive macro (Hermes / functionary style).
MACRO_TOOLS = r"""{%- macro json_to_python_type(json_spec) %}
{%- set basic_type_map = {"string": "str", "number": "float", "integer": "int", "boolean": "bool", "null": "None"} %}
{%- if basic_type_map[json_spec.type] is defined %}
    {{- basic_type_map[json_spec.type] }}
{%- elif json_spec.type == "array" %}
    {{- "list[" +  json_to_python_type(json_spec['items']) + "]" }}
{%- elif json_spec.type == "object" %}
    {%- if json_spec.additionalProperties is defined %}
        {{- "dict[str, " + json_to_python_type(json_spec.additionalProperties) + ']' }}
    {%- else %}
        {{- "dict" }}
    {%- endif %}
{%- elif json_spec.type is iterable %}
    {{- "Union[" }}
    {%- for t in json_spec.type %}
        {{- json_to_python_type({"type": t}) }}
        {%- if not loop.last %}
            {{- "," }}
        {%- endif %}
    {%- endfor %}
    {{- "]" }}
{%- else %}
    {{- "Any" }}
{%- endif %}
{%- endmacro %}
{{- bos_token }}
{%- if tools is iterable and tools | length > 0 %}
    {{- '<|im_start|>system\nYou are a function calling AI model. Here are the available tools: <tools> ' }}
    {%- for tool in tools %}
        {%- if tool.function is defined %}
            {%- set tool = tool.function %}
        {%- endif %}
        {{- '{"type": "function", "function": ' }}
        {{- '{"name": "' + tool.name + '", ' }}
        {{- '"description": "' + tool.name + '(' }}
        {%- for param_name, param_fields in tool.parameters.properties|items %}
            {{- param_name + ": " + json_to_python_type(param_fields) }}
            {%- if not loop.last %}
                {{- ", " }}
            {%- endif %}
        {%- endfor %}
        {{- ")" }}
        {%- if tool.return is defined %}
            {{- " -> " + json_to_python_type(tool.return) }}
        {%- endif %}
        {{- " - " + tool.description + "\n\n" }}
        {{- '", "parameters": ' }}
        {{- tool.parameters|tojson }}
        {{- "}" }}
    {%- endfor %}
    {{- " </tools><|im_end|>\n" }}
{%- endif %}
{%- for message in messages %}
    {%- if message.role == "user" or message.role == "system" or (message.role == "assistant" and message.tool_calls is not defined) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- for tool_call in message.tool_calls %}
            {{- '\n<tool_call>\n' }}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '{"name": "' }}
            {{- tool_call.name }}
            {{- '"' }}
            {{- ', '}}
            {%- if tool_call.arguments is defined %}
                {{- '"arguments": ' }}
                {%- if tool_call.arguments is string %}
                    {{- tool_call.arguments }}
                {%- else %}
                    {{- tool_call.arguments|tojson }}
                {%- endif %}
            {%- endif %}
            {{- '}' }}
            {{- '\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if loop.previtem and loop.previtem.role != "tool" %}
            {{- '<|im_start|>tool\n' }}
        {%- endif %}
        {{- '<tool_response>\n' }}
        {{- message.content }}
        {%- if not loop.last %}
            {{- '\n</tool_response>\n' }}
        {%- else %}
            {{- '\n</tool_response>' }}
        {%- endif %}
        {%- if not loop.last and loop.nextitem.role != "tool" %}
            {{- '<|im_end|>' }}
        {%- elif loop.last %}
            {{- '<|im_end|>' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
"""

QWEN3 = r"""{%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0].role == 'system' %}
        {{- messages[0].content + '\n\n' }}
    {%- endif %}
    {{- "# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0].role == 'system' %}
        {{- '<|im_start|>system\n' + messages[0].content + '<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}
{%- for message in messages[::-1] %}
    {%- set index = (messages|length - 1) - loop.index0 %}
    {%- if ns.multi_step_tool and message.role == "user" and message.content is string and not(message.content.startswith('<tool_response>') and message.content.endswith('</tool_response>')) %}
        {%- set ns.multi_step_tool = false %}
        {%- set ns.last_query_index = index %}
    {%- endif %}
{%- endfor %}
{%- for message in messages %}
    {%- if message.content is string %}
        {%- set content = message.content %}
    {%- else %}
        {%- set content = '' %}
    {%- endif %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) %}
        {{- '<|im_start|>' + message.role + '\n' + content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {%- set reasoning_content = '' %}
        {%- if message.reasoning_content is string %}
            {%- set reasoning_content = message.reasoning_content %}
        {%- else %}
            {%- if '</think>' in content %}
                {%- set reasoning_content = content.split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n') %}
                {%- set content = content.split('</think>')[-1].lstrip('\n') %}
            {%- endif %}
        {%- endif %}
        {%- if loop.index0 > ns.last_query_index %}
            {%- if loop.last or (not loop.last and reasoning_content) %}
                {{- '<|im_start|>' + message.role + '\n<think>\n' + reasoning_content.strip('\n') + '\n</think>\n\n' + content.lstrip('\n') }}
            {%- else %}
                {{- '<|im_start|>' + message.role + '\n' + content }}
            {%- endif %}
        {%- else %}
            {{- '<|im_start|>' + message.role + '\n' + content }}
        {%- endif %}
        {%- if message.tool_calls %}
            {%- for tool_call in message.tool_calls %}
                {%- if (loop.first and content) or (not loop.first) %}
                    {{- '\n' }}
                {%- endif %}
                {%- if tool_call.function %}
                    {%- set tool_call = tool_call.function %}
                {%- endif %}
                {{- '<tool_call>\n{"name": "' }}
                {{- tool_call.name }}
                {{- '", "arguments": ' }}
                {%- if tool_call.arguments is string %}
                    {{- tool_call.arguments }}
                {%- else %}
                    {{- tool_call.arguments | tojson }}
                {%- endif %}
                {{- '}\n</tool_call>' }}
            {%- endfor %}
        {%- endif %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if loop.first or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
    {%- if enable_thinking is defined and enable_thinking is false %}
        {{- '<think>\n\n</think>\n\n' }}
    {%- endif %}
{%- endif %}"""

SMOL3 = r"""{# ───── defaults ───── #}
{%- if enable_thinking is not defined -%}
{%- set enable_thinking = true -%}
{%- endif -%}
{%- set reasoning_mode = "/think" -%}
{%- if messages[0].role == "system" -%}
{%- set system_message = messages[0].content -%}
{%- if "/no_think" in system_message -%}
{%- set reasoning_mode = "/no_think" -%}
{%- elif "/think" in system_message -%}
{%- set reasoning_mode = "/think" -%}
{%- endif -%}
{%- set custom_instructions = system_message.replace("/no_think", "").replace("/think", "").rstrip() -%}
{%- endif -%}
{{- "<|im_start|>system\n" -}}
{{- "## Metadata\n\n" -}}
{{- "Knowledge Cutoff Date: June 2025\n" -}}
{%- set today = strftime_now("%d %B %Y") -%}
{{- "Reasoning Mode: " + reasoning_mode + "\n\n" -}}
{%- if custom_instructions -%}{{- "## Custom Instructions\n\n" + custom_instructions + "\n\n" -}}{%- endif -%}
{{- "<|im_end|>\n" -}}
{%- for message in messages -%}
    {%- set content = message.content if message.content is string else "" -%}
    {%- if message.role == "user" -%}
        {{ "<|im_start|>" + message.role + "\n"  + content + "<|im_end|>\n" }}
    {%- elif message.role == "assistant" -%}
{% generation %}
        {%- if reasoning_mode == "/think" -%}
            {{ "<|im_start|>assistant\n" + content.lstrip("\n") + "<|im_end|>\n" }}
        {%- else -%}
            {{ "<|im_start|>assistant\n" + "<think>\n\n</think>\n" + content.lstrip("\n") + "<|im_end|>\n" }}
        {%- endif -%}
{% endgeneration %}
    {%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {%- if reasoning_mode == "/think" -%}
        {{ "<|im_start|>assistant\n" }}
    {%- else -%}
        {{ "<|im_start|>assistant\n" + "<think>\n\n</think>\n" }}
    {%- endif -%}
{%- endif -%}"""

LLAMA_TOKENS = {"bos_token": "<s>", "eos_token": "</s>"}
CHAT_TEMPLATES = [
    ("llama-2-chat", LLAMA2, LLAMA_TOKENS),
    ("llama-3-instruct", LLAMA3, {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}),
    ("llama-3.1-instruct", LLAMA31, {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}),
    ("mistral-instruct-v0.1", MISTRAL_V1, LLAMA_TOKENS),
    ("mistral-instruct-v0.3", MISTRAL_V3, LLAMA_TOKENS),
    ("qwen2 chatml", CHATML_QWEN2, {"eos_token": "<|im_end|>"}),
    ("qwen2.5", QWEN25, {"eos_token": "<|im_end|>"}),
    ("smollm2", SMOLLM2, {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>"}),
    ("gemma", GEMMA, {"bos_token": "<bos>", "eos_token": "<eos>"}),
    ("gemma-3", GEMMA3, {"bos_token": "<bos>", "eos_token": "<eos>"}),
    ("zephyr", ZEPHYR, LLAMA_TOKENS),
    ("phi-3 (april)", PHI3_APRIL, {"bos_token": "<s>", "eos_token": "<|endoftext|>"}),
    ("phi-3 (july)", PHI3_JULY, {"bos_token": "<s>", "eos_token": "<|endoftext|>"}),
    ("qwen3", QWEN3, {"eos_token": "<|im_end|>"}),
    ("smollm3-style generation blocks", SMOL3, {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>"}),
    ("hermes-style macros", MACRO_TOOLS, {"bos_token": "<|begin_of_text|>", "eos_token": "<|im_end|>"}),
]


def _m(role, content):
    return {"role": role, "content": content}


TRICKY = ('Line one\nLine "two" with \'quotes\' and a \\ backslash\n\n  indented  \t'
          ' naïve café 日本語 😀 {{ not_a_tag }} {% raw %} {# nope #} <|im_end|> </s>')
CONVERSATIONS = [
    ("single", [_m("user", "Hello!")]),
    ("system single", [_m("system", "You are a helpful assistant."), _m("user", "What is 2+2?")]),
    ("multi turn", [_m("user", "Hi"), _m("assistant", "Hello! How can I help?"), _m("user", "Tell me a joke.")]),
    ("system multi turn", [_m("system", "Be terse.\nAlways."), _m("user", "Hi"), _m("assistant", "Hi."),
                           _m("user", "Bye")]),
    ("tricky content", [_m("system", "  spaced system  "), _m("user", TRICKY), _m("assistant", "  ok  \n"),
                        _m("user", "\n\nnewlines first")]),
    ("ends with assistant", [_m("user", "2+2?"), _m("assistant", "4")]),
    ("empty content", [_m("user", "")]),
    ("roles do not alternate", [_m("user", "one"), _m("user", "two")]),
]

WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_current_weather", "description": "Get the current weather in a given location",
    "parameters": {"type": "object", "properties": {
        "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": ["integer", "null"], "description": "Forecast days"},
        "tags": {"type": "array", "items": {"type": "string"}}},
        "required": ["location"]},
    "return": {"type": "object", "additionalProperties": {"type": "number"}}}}
TOOL_CALL = {"role": "assistant", "tool_calls": [{"type": "function", "function": {
    "name": "get_current_weather", "arguments": {"location": "Paris, France", "unit": "celsius"}}}]}
TOOL_TURNS = [_m("system", "You are a weather bot."), _m("user", "Weather in Paris?"), TOOL_CALL,
              {"role": "tool", "content": "{\"temperature\": 22.5, \"unit\": \"celsius\"}"}]
TOOL_CASES = [
    ("llama-3.1-instruct with tools", LLAMA31, {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}, [
        {"messages": TOOL_TURNS, "tools": [WEATHER_TOOL]},
        {"messages": TOOL_TURNS[:2], "tools": [WEATHER_TOOL], "extra": {"tools_in_user_message": False,
                                                                        "date_string": "01 Jan 2025"}},
        {"messages": TOOL_TURNS[1:3], "extra": {"builtin_tools": ["brave_search", "code_interpreter"]}},
    ]),
    ("qwen2.5 with tools", QWEN25, {"eos_token": "<|im_end|>"}, [
        {"messages": TOOL_TURNS + [_m("assistant", "It is 22.5 C."), _m("user", "Thanks")], "tools": [WEATHER_TOOL]},
        {"messages": TOOL_TURNS},
    ]),
    ("qwen3 with thinking and tools", QWEN3, {"eos_token": "<|im_end|>"}, [
        {"messages": [_m("system", "S"), _m("user", "Q1"), _m("assistant", "<think>\nhmm\n</think>\n\nA1"),
                      _m("user", "Q2"), {"role": "assistant", "content": "<think>r2</think>A2", "tool_calls": [
                          {"function": {"name": "f", "arguments": {"x": 1}}}]},
                      _m("tool", "T1"), _m("tool", "T2")]},
        {"messages": [_m("user", "Q1")], "tools": [WEATHER_TOOL], "extra": {"enable_thinking": False}},
    ]),
    ("hermes-style macros with tools", MACRO_TOOLS, {"bos_token": "<|begin_of_text|>"}, [
        {"messages": TOOL_TURNS, "tools": [WEATHER_TOOL]},
        {"messages": TOOL_TURNS[:2] + [{"role": "assistant", "tool_calls": [{"name": "f", "arguments": "{\"a\": 1}"}]},
                                       _m("tool", "r1"), _m("tool", "r2")]},
    ]),
]


def check_vars(v, where):
    """Refuse integral floats: the C side reads JSON 1.0 as the int 1."""
    if isinstance(v, float) and math.isfinite(v) and v.is_integer():
        raise ValueError(f"{where}: integral float {v!r} would read back as an int")
    if isinstance(v, dict):
        for k, x in v.items():
            check_vars(x, f"{where}.{k}")
    if isinstance(v, list):
        for i, x in enumerate(v):
            check_vars(x, f"{where}[{i}]")


def error_record(phase, exc):
    return {"phase": phase, "type": type(exc).__name__, "message": str(exc)}


def render_plain(template, variables):
    """Renders with transformers' environment; returns the fixture record."""
    check_vars(variables, "vars")
    record = {"vars": variables}
    try:
        compiled = _compile_jinja_template(template)
    except Exception as exc:  # syntax errors surface when compiling
        record["error"] = error_record("parse", exc)
        return record
    try:
        record["expected"] = compiled.render(**variables)
    except Exception as exc:
        record["error"] = error_record("render", exc)
    return record


def render_chat(template, messages, add_generation_prompt, tokens, tools=None, extra=None):
    """apply_chat_template(tokenize=False) minus the tokenizer: the same
    None-dropping of message keys, then render_jinja_template."""
    messages = [{k: v for k, v in m.items() if v is not None} for m in messages]
    kwargs = dict(tokens)
    kwargs.update(extra or {})
    variables = {"messages": messages, "tools": tools, "documents": None,
                 "add_generation_prompt": add_generation_prompt}
    variables.update(kwargs)
    check_vars(variables, "vars")
    record = {"vars": variables}
    try:
        _compile_jinja_template(template)
    except Exception as exc:
        record["error"] = error_record("parse", exc)
        return record
    try:
        rendered, _ = render_jinja_template(conversations=[messages], tools=tools,
                                            chat_template=template,
                                            add_generation_prompt=add_generation_prompt, **kwargs)
        record["expected"] = rendered[0]
    except Exception as exc:
        record["error"] = error_record("render", exc)
    return record


def model_template(name):
    with open(os.path.join(MODELS, name, "tokenizer_config.json"), encoding="utf-8") as f:
        config = json.load(f)
    tokens = {}
    for key in ("bos_token", "eos_token"):
        value = config.get(key)
        if isinstance(value, dict):
            value = value.get("content")
        if value is not None:
            tokens[key] = value
    return config["chat_template"], tokens


def chat_cases():
    templates = list(CHAT_TEMPLATES)
    for label, folder in (("tinyllama (real)", "tinyllama-1.1b-chat-v1.0"),
                          ("phi-3-mini-4k (real)", "phi-3-mini-4k-instruct")):
        source, tokens = model_template(folder)
        templates.insert(0, (label, source, tokens))
    cases = []
    for name, source, tokens in templates:
        renders = []
        for _conv_name, messages in CONVERSATIONS:
            for agp in (True, False):
                renders.append(render_chat(source, messages, agp, tokens))
        cases.append({"name": name, "template": source, "renders": renders})
    for name, source, tokens, contexts in TOOL_CASES:
        renders = [render_chat(source, ctx["messages"], agp, tokens, ctx.get("tools"), ctx.get("extra"))
                   for ctx in contexts for agp in (True, False)]
        cases.append({"name": name, "template": source, "renders": renders})
    return cases


def construct_cases():
    cases = []
    for name, source, contexts in CONSTRUCTS:
        cases.append({"name": name, "template": source,
                      "renders": [render_plain(source, ctx) for ctx in contexts]})
    return cases


def write(name, description, cases):
    doc = {
        "description": description,
        "generator": "tools/make_jinja_fixtures.py",
        "versions": {"jinja2": jinja2.__version__, "transformers": transformers.__version__},
        "environment": "transformers.utils.chat_template_utils._compile_jinja_template",
        "cases": cases,
    }
    path = os.path.join(OUT_DIR, name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
    n = sum(len(c["renders"]) for c in cases)
    print(f"{path}: {len(cases)} templates, {n} renders")


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    write("constructs.json", "small templates, one Jinja construct each (plus expected errors)",
          construct_cases())
    write("chat_templates.json", "real and well-known chat templates over several conversations",
          chat_cases())


if __name__ == "__main__":
    main()
