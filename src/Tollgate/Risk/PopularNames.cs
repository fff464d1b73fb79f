using System.Collections.Frozen;
using Tollgate.Graph;

namespace Tollgate.Risk;

/// <summary>
/// A small, hand-picked list of widely used package names per ecosystem: the names typosquats imitate.
/// It is deliberately short; it catches the common case (a mistyped direct dependency) without a download.
/// Names are kept in their ecosystem's comparison form.
/// </summary>
internal static class PopularNames
{
    private static readonly FrozenDictionary<Ecosystem, FrozenSet<string>> s_names = new Dictionary<Ecosystem, FrozenSet<string>>
    {
        [Ecosystem.Npm] = Normal(Ecosystem.Npm,
            "react", "react-dom", "preact", "react-router", "react-router-dom", "redux", "next", "vue", "nuxt", "svelte",
            "@angular/core", "jquery", "lodash", "lodash-es", "underscore", "express", "fastify", "koa", "cors", "helmet",
            "body-parser", "cookie-parser", "morgan", "multer", "axios", "node-fetch", "request", "superagent", "got",
            "chalk", "colors", "commander", "yargs", "minimist", "inquirer", "debug", "winston", "pino", "moment", "dayjs",
            "date-fns", "typescript", "ts-node", "tslib", "core-js", "webpack", "rollup", "vite", "esbuild", "@babel/core",
            "babel-cli", "eslint", "prettier", "jest", "mocha", "nodemon", "cross-env", "cross-spawn", "dotenv", "uuid",
            "semver", "glob", "rimraf", "mkdirp", "fs-extra", "chokidar", "execa", "jsonwebtoken", "bcrypt", "bcryptjs",
            "mongoose", "mysql", "mysql2", "redis", "ioredis", "sequelize", "prisma", "@prisma/client", "graphql",
            "socket.io", "electron", "puppeteer", "playwright", "zod", "rxjs", "classnames", "styled-components",
            "tailwindcss", "postcss", "autoprefixer", "sass", "node-sass", "nodemailer", "sharp", "cheerio", "jsdom",
            "marked", "highlight.js", "bluebird", "async", "event-stream", "ua-parser-js", "coffee-script", "discord.js",
            "openai", "@anthropic-ai/sdk", "@modelcontextprotocol/sdk", "mime-types", "qs", "ws"),
        [Ecosystem.PyPI] = Normal(Ecosystem.PyPI,
            "requests", "urllib3", "httpx", "aiohttp", "certifi", "idna", "charset-normalizer", "numpy", "pandas", "scipy",
            "matplotlib", "scikit-learn", "tensorflow", "torch", "keras", "transformers", "huggingface-hub", "opencv-python",
            "pillow", "django", "flask", "fastapi", "starlette", "uvicorn", "gunicorn", "werkzeug", "jinja2", "markupsafe",
            "itsdangerous", "click", "typer", "rich", "tqdm", "colorama", "pydantic", "sqlalchemy", "psycopg2",
            "psycopg2-binary", "pymongo", "redis", "celery", "boto3", "botocore", "setuptools", "wheel", "pip", "virtualenv",
            "packaging", "attrs", "six", "python-dateutil", "pytz", "tzdata", "pyyaml", "simplejson", "ujson", "orjson",
            "cryptography", "pycryptodome", "pyjwt", "bcrypt", "paramiko", "lxml", "beautifulsoup4", "selenium",
            "protobuf", "grpcio", "pytest", "coverage", "tox", "black", "flake8", "mypy", "ruff", "poetry", "docutils",
            "jellyfish", "openai", "anthropic", "langchain", "mcp"),
        [Ecosystem.NuGet] = Normal(Ecosystem.NuGet,
            "Newtonsoft.Json", "System.Text.Json", "Serilog", "Serilog.AspNetCore", "Serilog.Sinks.Console", "NLog",
            "log4net", "AutoMapper", "Dapper", "Polly", "MediatR", "FluentValidation", "FluentAssertions", "xunit", "NUnit",
            "Moq", "NSubstitute", "Castle.Core", "Swashbuckle.AspNetCore", "Microsoft.Extensions.Logging",
            "Microsoft.Extensions.DependencyInjection", "Microsoft.EntityFrameworkCore", "Microsoft.Data.SqlClient",
            "System.Data.SqlClient", "Npgsql", "StackExchange.Redis", "RestSharp", "Humanizer", "CsvHelper",
            "BouncyCastle.Cryptography", "Portable.BouncyCastle", "Azure.Identity", "Azure.Storage.Blobs", "AWSSDK.Core",
            "AWSSDK.S3", "Google.Protobuf", "Grpc.Net.Client", "MongoDB.Driver", "Quartz", "Hangfire.Core", "IdentityModel",
            "System.IdentityModel.Tokens.Jwt", "YamlDotNet", "Spectre.Console", "System.CommandLine", "NuGet.Versioning",
            "Fody", "Anotar.Serilog.Fody", "ModelContextProtocol"),
    }.ToFrozenDictionary();

    private static FrozenSet<string> Normal(Ecosystem ecosystem, params string[] names) =>
        names.Select(n => Component.NormalizeName(ecosystem, n)).ToFrozenSet(StringComparer.Ordinal);

    /// <summary>True when the name is on the list (it is the real package, not an imitation).</summary>
    public static bool Contains(Ecosystem ecosystem, string name) =>
        s_names[ecosystem].Contains(Component.NormalizeName(ecosystem, name));

    /// <summary>
    /// The listed name one edit (insert, delete, replace, swap of neighbours) away from <paramref name="name"/>,
    /// or null when there is none or the name is itself listed or shorter than <paramref name="minimumLength"/>.
    /// </summary>
    public static string? NearestTo(Ecosystem ecosystem, string name, int minimumLength)
    {
        var normal = Component.NormalizeName(ecosystem, name);
        var names = s_names[ecosystem];
        if (normal.Length < minimumLength || names.Contains(normal))
        {
            return null;
        }
        return names.Where(p => Math.Abs(p.Length - normal.Length) <= 1 && EditDistance.AtMostOne(normal, p))
            .Order(StringComparer.Ordinal)
            .FirstOrDefault();
    }
}

/// <summary>Optimal string alignment distance (Levenshtein plus swaps of neighbouring letters), bounded at one.</summary>
internal static class EditDistance
{
    /// <summary>True when <paramref name="a"/> and <paramref name="b"/> differ by at most one edit.</summary>
    public static bool AtMostOne(string a, string b)
    {
        if (a == b)
        {
            return true;
        }
        if (Math.Abs(a.Length - b.Length) > 1)
        {
            return false;
        }
        var prefix = 0;
        while (prefix < a.Length && prefix < b.Length && a[prefix] == b[prefix])
        {
            prefix++;
        }
        if (a.Length == b.Length)
        {
            // One replacement, or one swap of neighbouring letters.
            return a.AsSpan(prefix + 1).SequenceEqual(b.AsSpan(prefix + 1))
                || (prefix + 1 < a.Length && a[prefix] == b[prefix + 1] && a[prefix + 1] == b[prefix]
                    && a.AsSpan(prefix + 2).SequenceEqual(b.AsSpan(prefix + 2)));
        }
        // One insertion or deletion: skip the extra letter in the longer string.
        var (longer, shorter) = a.Length > b.Length ? (a, b) : (b, a);
        return longer.AsSpan(prefix + 1).SequenceEqual(shorter.AsSpan(prefix));
    }
}
