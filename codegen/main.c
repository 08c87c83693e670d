/*
 * main.c - the driver as one straight pipeline:
 *
 *   options (options.c) -> preprocess + parse, imports on the way -> sema
 *   -> emitters into memory (driver.c) -> files written atomically (output.c)
 */
#include "driver.h"

#include <stdlib.h>

int main(int argc, char **argv)
{
    Cli cli = {0};
    parse_options(&cli, argc, argv);
    Options *opt = &cli.opt;

    output_init();
    Compiler *cc = setup_compiler(&cli);

    if (opt->preprocess_only) {
        Buf out = {0};
        int r = pp_file(cc->pp, opt->input, &out);
        if (r == 0 && cc->errors == 0)
            fwrite(out.data, 1, out.len, stdout);
        buf_free(&out);
        return diag_finish(cc) ? 1 : 0;
    }

    File *main_file = compiler_load_main(cc, opt->input);
    if (cc->errors == 0 && main_file)
        sema_check(cc);
    if (diag_finish(cc))
        return 1;
    if (opt->check_only)
        return 0;

    Output outs[NOUT];
    plan_outputs(&cli, cc, outs);
    int rc = check_outputs(&cli, outs);
    if (rc == 0)
        rc = generate(cc, outs);
    if (rc == 0)
        rc = opt->verify ? verify_outputs(outs) : write_outputs(&cli, cc, outs);
    free_outputs(outs);
    vec_free(&cli.incs);
    vec_free(&cli.defs);
    return rc;
}
