/*
 * fold.c - constant folding: the value of an IDL constant expression
 * (enum values, const declarations, array sizes, case labels).
 */
#include "amidl.h"

#include <stdlib.h>
#include <string.h>

bool const_eval(Compiler *cc, Scope *scope, Expr *e, long long *out, bool quiet, int depth)
{
    long long a = 0, b = 0;
    if (!e || depth > MAX_NEST_DEPTH)
        return false;
    switch (e->kind) {
    case EX_NUM: *out = e->val; return true;
    case EX_CHAR: {
        const char *s = e->text;
        if (*s == 'L') s++;
        s++;
        if (*s == '\\') {
            s++;
            switch (*s) {
            case 'n': *out = '\n'; break;
            case 't': *out = '\t'; break;
            case 'r': *out = '\r'; break;
            case '0': *out = strtol(s, NULL, 8); break;
            case 'x': *out = strtol(s + 1, NULL, 16); break;
            default: *out = (unsigned char)*s;
            }
        } else
            *out = (unsigned char)*s;
        return true;
    }
    case EX_TRUE: *out = 1; return true;
    case EX_FALSE: case EX_NULL: *out = 0; return true;
    case EX_IDENT: {
        Var *v = e->ref ? e->ref : scope_find_const(scope, e->text);
        if (!v) {
            if (!quiet)
                error_at(cc, e->loc, "use of undeclared identifier '%s'", e->text);
            return false;
        }
        e->ref = v;
        if (v->has_value) { *out = v->value; return true; }
        if (VX(v)->init && const_eval(cc, scope, VX(v)->init, out, true, depth + 1)) return true;
        return false;
    }
    case EX_UNARY:
        if (!const_eval(cc, scope, e->a, &a, quiet, depth + 1))
            return false;
        switch (e->op) {
        case OP_NEG: *out = (long long)(0ULL - (unsigned long long)a); return true;
        case OP_POS: *out = a; return true;
        case OP_NOT: *out = !a; return true;
        case OP_BITNOT: *out = ~a; return true;
        default: return false;
        }
    case EX_BINARY:
        if (!const_eval(cc, scope, e->a, &a, quiet, depth + 1) || !const_eval(cc, scope, e->b, &b, quiet, depth + 1))
            return false;
        switch (e->op) {
        case '+': *out = (long long)((unsigned long long)a + (unsigned long long)b); return true;
        case '-': *out = (long long)((unsigned long long)a - (unsigned long long)b); return true;
        case '*': *out = (long long)((unsigned long long)a * (unsigned long long)b); return true;
        case '/': case '%':
            if (b == 0) {
                if (!quiet)
                    error_at(cc, e->loc, "division by zero in constant expression");
                return false;
            }
            if (a == INT64_MIN && b == -1) { *out = e->op == '/' ? a : 0; return true; }
            *out = e->op == '/' ? a / b : a % b;
            return true;
        case OP_SHL: *out = (b < 0 || b > 63) ? 0 : (long long)((unsigned long long)a << b); return true;
        case OP_SHR: *out = (b < 0 || b > 63) ? 0 : a >> b; return true;
        case '&': *out = a & b; return true;
        case '|': *out = a | b; return true;
        case '^': *out = a ^ b; return true;
        case '<': *out = a < b; return true;
        case '>': *out = a > b; return true;
        case OP_LE: *out = a <= b; return true;
        case OP_GE: *out = a >= b; return true;
        case OP_EQ: *out = a == b; return true;
        case OP_NE: *out = a != b; return true;
        case OP_ANDAND: *out = a && b; return true;
        case OP_OROR: *out = a || b; return true;
        }
        return false;
    case EX_TERNARY:
        if (!const_eval(cc, scope, e->a, &a, quiet, depth + 1))
            return false;
        return const_eval(cc, scope, a ? e->b : e->c, out, quiet, depth + 1);
    case EX_CAST:
        return e->a ? const_eval(cc, scope, e->a, out, quiet, depth + 1) : false;
    default:
        return false;
    }
}

bool eval_const_expr(Compiler *cc, Expr *e, long long *out, bool quiet)
{
    return const_eval(cc, cc->global, e, out, quiet, 0);
}