/*
 * main.c - the driver as one straight pipeline:
 *
 *   options (options.c) -> preprocess + parse, imports on the way -> sema
 *   -> emitters into memory (driver.c) -> files written atomically (output.c)
 */
#include "driver.h"

#include <stdlib.h>

static int run(Cli *cli, Compiler *cc)
{
    Options *opt = &cli->opt;

    if (read_input(cli, cc))
        return 1;
    if (opt->preprocess_only)
        return preprocess_only(cli, cc);

    File *main_file = load_input(cli, cc);
    if (cc->errors == 0 && main_file)
        compiler_load_acf(cc, opt->input);      /* --acf FILE, or FILE.acf beside FILE.idl */
    if (cc->errors == 0 && main_file)
        sema_check(cc);
    if (diag_finish(cc))
        return 1;
    if (opt->check_only)
        return 0;

    Output outs[NOUT];
    plan_outputs(cli, cc, outs);
    int rc = check_outputs(cli, outs);
    if (rc == 0 && cli->print_outputs)
        print_outputs(outs);
    else if (rc == 0) {
        if (!opt->verify)
            spill_outputs(outs);        /* --verify compares the whole text in memory */
        if ((rc = generate(cc, outs)) == 0)
            rc = opt->verify ? verify_outputs(outs) : write_outputs(cli, cc, outs);
    }
    free_outputs(outs);
    return rc;
}

static int compile(Cli *cli)
{
    output_init();
    Compiler *cc = setup_compiler(cli);
    int rc = run(cli, cc);
    diag_summary(cc);       /* "N warnings and N errors generated." after everything */
    return rc;
}

int main(int argc, char **argv)
{
    Cli cli = {0};
    parse_options(&cli, argc, argv);
    int rc = compile(&cli);
    cli_free(&cli);
    return rc;
}
