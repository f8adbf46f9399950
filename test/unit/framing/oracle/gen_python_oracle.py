#!/usr/bin/env python3
"""Writes ../python-oracle.ts: what real Python 3.11 answers for int(), ascii(),
repr(bytes), str.strip()/rstrip() and the seed 002 line echo and calculator, so
the framing tests compare against Python without needing it at test time.

    python3 test/unit/framing/oracle/gen_python_oracle.py
    npx biome format --write test/unit/framing/python-oracle.ts
"""
import json
import os
import random
import sys
import unicodedata
from functools import reduce
from operator import mul

assert sys.version_info[:2] == (3, 11), "the seeds' semantics are Python 3.11's"
rnd = random.Random(20240611)

INT_ALPHABET = ['0', '1', '7', '9', '_', '_', '+', '-', ' ', '\t', '\n', '\x0b', '\x1c', '\x1f',
                '\x85', '\xa0', '\u3000', '\u2028', '\u0663', '\uff11', '\U0001d7ce', '\u00b2',
                'a', '.', 'e', '\x00', '\x7f', '\ufeff', '\u200b', '\ud800', ',']
TEXT_ALPHABET = ["'", '"', '\\', 'a', 'Z', ' ', '~', '\t', '\n', '\r', '\x00', '\x1b', '\x1c',
                 '\x7f', '\x80', '\x85', '\xa0', '\xe9', '\xff', '\u0100', '\u2028', '\u3000',
                 '\ufeff', '\uffff', '\U0001f600', '\U0010ffff', '\ud800', '\udfff']


def rand_str(alphabet, max_len):
    return ''.join(rnd.choice(alphabet) for _ in range(rnd.randint(0, max_len)))


def int_outcome(s):
    try:
        return str(int(s))
    except ValueError as e:
        return 'RangeError' if str(e).startswith('Exceeds the limit') else 'SyntaxError'


def nd_runs():
    runs, cp = [], 0
    while cp < 0x110000:
        if unicodedata.category(chr(cp)) == 'Nd':
            runs.append(cp)
            cp += 10
        else:
            cp += 1
    return runs


# Digit sets that Node's newer Unicode has and Python 3.11 (Unicode 14) lacks.
NEWER_ND = [0x10d40, 0x116d0, 0x11bf0, 0x11de0, 0x11f50, 0x16130, 0x16d70, 0x1ccf0, 0x1e4f0, 0x1e5f1]

int_inputs = ['', ' ', '0', '-0', '+0', '+5', '-5', '1_000', '0_7', '007', '_1', '1_', '1__0',
              '+_1', '- 1', '+-1', '1 2', ' 1 ', '\t\n\x0b\x0c\r 42 \r\n', '\x1c1', '1\x1c', '\x851',
              '\xa01\u3000', '1\x00', '\x7f1', '\u20081', '\u00b2', '\uff11', '\U0001d7ce',
              '1\u200b', '\ufeff1', '1e3', '0x10', '1.0', '\u0663', '\u0661_\u0662',
              '-\u0661\u0660', '1\u0663_\uff19', '12345678901234567890123456789',
              '-98765432109876543210987654321', '\ud800', '1\udfff']
int_inputs += [''.join(chr(r + d) for d in range(10)) for r in nd_runs()]
int_inputs += [''.join(chr(r + d) for d in range(10)) for r in NEWER_ND]
int_inputs += [rand_str(INT_ALPHABET, 6) for _ in range(200)]
int_cases = [[s, int_outcome(s)] for s in dict.fromkeys(int_inputs)]

text_inputs = ['', 'hello', "it's", 'say "hi"', 'both \' and "', '\\', "\\'", 'tab\there',
               '\U0001f600', '\ud83d', '\udc00x', 'caf\xe9', '\u20ac5']
text_inputs += [rand_str(TEXT_ALPHABET, 8) for _ in range(120)]
text_inputs = list(dict.fromkeys(text_inputs))
ascii_cases = [[s, ascii(s)] for s in text_inputs]
strip_cases = [[s, s.rstrip(), s.strip()] for s in text_inputs + int_inputs[:60]]

byte_inputs = [b'', b'hello', b"it's", b'"', b'\'"', b'\\', bytes(range(256))]
byte_inputs += [bytes(rnd.choice(b'\x00\t\n\r\x1f "\'\\AZaz~\x7f\x80\xff') for _ in range(rnd.randint(0, 10)))
                for _ in range(80)]
bytes_cases = [[b.decode('latin1'), repr(b)] for b in byte_inputs]

LINE_ALPHABET = [b'1', b'2', b'9', b'0', b'-', b'+', b'_', b',', b',', b' ', b'\t', b'\r', b'a',
                 b'\x00', b'\x1c', b'\xc3\xa9', b'\xd9\xa3', b'\xff', b'\xe2\x80\xa8', b'\xef\xbb\xbf']
COMMANDS = [b'sum', b'product', b'quit', b'sum\r', b'product \t', b'Quit', b' quit', b'quit\x00']


def seed_echo(raw):
    try:
        line = raw.decode('utf-8').rstrip()
    except UnicodeDecodeError:
        return 'crash:utf8'
    if line == 'quit':
        return (b'connection closed\r\n').decode('latin1')
    return (b'Echoed: %a\r\n' % line).decode('latin1')


def seed_calc(lines):
    """The loop of seed 002 example3, one reply per line; a crash is named, not raised."""
    mode, out = 'sum', []
    for raw in lines:
        try:
            line = raw.decode('utf-8').rstrip()
        except UnicodeDecodeError:
            out.append('crash:utf8')
            continue
        if line == 'quit':
            out.append(b'connection closed\r\n'.decode('latin1'))
            break
        if line in ('sum', 'product'):
            out.append(b'<switching to %s mode>\r\n' % line.encode())
            out[-1] = out[-1].decode('latin1')
            mode = line
            continue
        try:
            nums = list(map(int, line.split(',')))
        except ValueError:
            out.append(b'ERROR. Enter only integers separated by commas\n'.decode('latin1'))
            continue
        try:
            if mode == 'sum':
                out.append((b'Sum of input numbers: %a\r\n' % str(sum(nums))).decode('latin1'))
            else:
                out.append((b'Product of input numbers: %a\r\n' % str(reduce(mul, nums, 1))).decode('latin1'))
        except ValueError:
            out.append('crash:too-large')
    return out


def rand_line():
    if rnd.random() < 0.15:
        return rnd.choice(COMMANDS)
    return b''.join(rnd.choice(LINE_ALPHABET) for _ in range(rnd.randint(0, 8)))


echo_lines = [b'hello', b'quit', b'quit\r', b' quit', b'', b'\xff', b'caf\xc3\xa9 \r']
echo_lines += [rand_line() for _ in range(80)]
echo_cases = [[raw.decode('latin1'), seed_echo(raw)] for raw in dict.fromkeys(echo_lines)]

sessions = [[b'1,2', b'4,9', b'product', b'0,-3', b'5,-9,10', b'hello', b'a,1', b'quit'],
            [b'', b'1,,2', b' 1 , 2 ', b'1_000', b'+5', b'-0', b'\xd9\xa3', b'1,', b',1'],
            [b'product', b'2,3', b'-7', b'2,' * 20 + b'0', b'sum', b'-1,1', b'quit', b'1']]
sessions += [[rand_line() for _ in range(rnd.randint(1, 12))] for _ in range(40)]
calc_cases = [[[raw.decode('latin1') for raw in s], seed_calc(s)] for s in sessions]

out_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'python-oracle.ts')
with open(out_path, 'w', encoding='ascii') as f:
    f.write('// Generated by oracle/gen_python_oracle.py with Python 3.11; do not edit.\n')
    f.write('// Bytes are latin1 strings; "crash:..." marks where the seed crashed.\n\n')
    for name, typ, value in [
        ('intCases', '[input: string, result: string][]', int_cases),
        ('asciiCases', '[input: string, ascii: string][]', ascii_cases),
        ('stripCases', '[input: string, rstrip: string, strip: string][]', strip_cases),
        ('bytesReprCases', '[bytes: string, repr: string][]', bytes_cases),
        ('echoCases', '[line: string, reply: string][]', echo_cases),
        ('calcSessions', '[lines: string[], replies: string[]][]', calc_cases),
    ]:
        f.write(f'export const {name}: {typ} = [\n')
        for case in value:
            f.write(f'  {json.dumps(case)},\n')
        f.write('];\n\n')
