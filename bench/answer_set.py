"""The questions of bench/answer_eval.py, written before the answerer was tuned.

Each question names the page of the manual that answers it and the phrases an answer must
contain (all of them, case and spacing aside) to state the fact asked. The halves are fixed
by position: the tuning half is the even-numbered questions of each manual, the held-out
half the odd ones. Follow-ups are (question, follow-up, page answering the follow-up):
the follow-up alone does not say what it is about.
"""

from __future__ import annotations

from typing import NamedTuple


class Question(NamedTuple):
    text: str
    page: str  # the manual page's file name without .html
    phrases: tuple[str, ...]


class FollowUp(NamedTuple):
    first: str
    then: str
    page: str


GIT = "git"
POSTGRESQL = "postgresql"

QUESTIONS: dict[str, list[Question]] = {
    GIT: [
        Question(
            "How do I save my uncommitted changes and go back to a clean working directory?",
            "git-stash",
            ("record the current state of the working directory",),
        ),
        Question(
            "What does git reset --soft do?",
            "git-reset",
            ("does not touch the index file or the working tree",),
        ),
        Question(
            "How do I change the message of my last commit?",
            "git-commit",
            ("replace the tip of the current branch",),
        ),
        Question("How do I delete a branch?", "git-branch", ("with a -d or -d option",)),
        Question(
            "What does git pull do?",
            "git-pull",
            ("incorporates changes from a remote repository",),
        ),
        Question(
            "How can I show each commit on a single line in git log?",
            "git-log",
            ("--pretty=oneline --abbrev-commit",),
        ),
        Question(
            "How do I apply a single commit from another branch onto mine?",
            "git-cherry-pick",
            ("apply the change each one introduces",),
        ),
        Question("How do I find which commit introduced a bug?", "git-bisect", ("binary search",)),
        Question(
            "How can I see who last modified each line of a file?",
            "git-blame",
            ("annotates each line",),
        ),
        Question(
            "How do I tell git to ignore some files?",
            "gitignore",
            ("intentionally untracked files",),
        ),
        Question(
            "How do I copy a remote repository to my machine?",
            "git-clone",
            ("clones a repository into a newly created directory",),
        ),
        Question("How do I create an annotated tag?", "git-tag", ("annotated tag object",)),
        Question(
            "What are reflogs?",
            "git-reflog",
            ("record when the tips of branches",),
        ),
        Question(
            "How do I remove untracked files from the working tree?",
            "git-clean",
            ("removing files that are not under version control",),
        ),
        Question(
            "How do I undo a commit that was already pushed without rewriting history?",
            "git-revert",
            ("record some new commits",),
        ),
        Question(
            "How do I squash several commits into one?",
            "git-rebase",
            ("fold two or more commits into one",),
        ),
        Question(
            "How do I list the remote repositories I have configured?",
            "git-remote",
            ("shows a list of existing remotes",),
        ),
        Question(
            "How can I check out more than one branch at a time in separate directories?",
            "git-worktree",
            ("multiple working trees",),
        ),
        Question(
            "How do I create a new branch and switch to it in one step?",
            "git-switch",
            ("before switching to the branch",),
        ),
        Question(
            "How do I set the name and email used for my commits?",
            "gittutorial",
            ("git config --global user.name",),
        ),
        Question(
            "How do I see the changes I have not staged yet?",
            "git-diff",
            ("changes you made relative to the index",),
        ),
        Question(
            "How do I upload my local commits to the remote repository?",
            "git-push",
            ("updates remote refs using local refs",),
        ),
    ],
    POSTGRESQL: [
        Question(
            "How do I create a new database?",
            "sql-createdatabase",
            ("creates a new postgresql database",),
        ),
        Question(
            "What does VACUUM do?", "sql-vacuum", ("reclaims storage occupied by dead tuples",)
        ),
        Question(
            "How do I see the execution plan of a query?",
            "sql-explain",
            ("displays the execution plan",),
        ),
        Question(
            "Which tool do I use to back up a database?",
            "app-pgdump",
            ("utility for backing up a postgresql database",),
        ),
        Question(
            "How do I restore a backup made by pg_dump in custom format?",
            "app-pgrestore",
            ("restoring a postgresql database from an archive",),
        ),
        Question(
            "How many concurrent connections does the server allow by default?",
            "runtime-config-connection",
            ("100 connections",),
        ),
        Question(
            "What port does the server listen on by default?",
            "runtime-config-connection",
            ("5432",),
        ),
        Question(
            "How do I add a column to an existing table?",
            "sql-altertable",
            ("adds a new column to the table",),
        ),
        Question(
            "Is serial a real data type?",
            "datatype-numeric",
            ("notational convenience for creating unique identifier columns",),
        ),
        Question(
            "How do I make a column reject null values?",
            "ddl-constraints",
            ("must not assume the null value",),
        ),
        Question(
            "What is a foreign key constraint?",
            "ddl-constraints",
            ("must match the values appearing in some row of another table",),
        ),
        Question(
            "Which index method does CREATE INDEX use by default?",
            "sql-createindex",
            ("default method is btree",),
        ),
        Question(
            "How do I grant privileges on a table to a role?",
            "sql-grant",
            ("privileges on a database object",),
        ),
        Question(
            "What is the difference between CREATE USER and CREATE ROLE?",
            "sql-createuser",
            ("login is assumed by default",),
        ),
        Question(
            "What is the default transaction isolation level?",
            "transaction-iso",
            ("read committed is the default isolation level",),
        ),
        Question(
            "How do I insert a row or update it if it already exists?",
            "sql-insert",
            ("on conflict",),
        ),
        Question(
            "How do I quickly remove all rows from a table?",
            "sql-truncate",
            ("quickly removes all rows",),
        ),
        Question(
            "When is a materialized view populated?",
            "sql-creatematerializedview",
            ("at the time the command is issued",),
        ),
        Question(
            "How do I refresh a materialized view?",
            "sql-refreshmaterializedview",
            ("completely replaces the contents of a materialized view",),
        ),
        Question(
            "What is the default value of work_mem?",
            "runtime-config-resource",
            ("four megabytes",),
        ),
        Question("How is jsonb stored?", "datatype-json", ("decomposed binary format",)),
        Question(
            "What does ANALYZE do?",
            "sql-analyze",
            ("collects statistics about the contents of tables",),
        ),
    ],
}

FOLLOW_UPS: list[FollowUp] = [
    FollowUp("How do I delete a branch in git?", "And how do I rename it?", "git-branch"),
    FollowUp("What does git stash do?", "How do I get the changes back later?", "git-stash"),
    FollowUp(
        "How do I find which commit introduced a bug?",
        "How do I mark a commit as good?",
        "git-bisect",
    ),
    FollowUp("How do I list the remotes of a repository?", "How do I add a new one?", "git-remote"),
    FollowUp("How do I create a tag in git?", "How do I delete one?", "git-tag"),
    FollowUp("What is a git worktree?", "How do I remove one?", "git-worktree"),
    FollowUp("How do I see the commit history?", "How can I limit it to the last five?", "git-log"),
    FollowUp("What does git clean do?", "How do I preview what would be deleted?", "git-clean"),
    FollowUp("What does git revert do?", "Can it undo a merge?", "git-revert"),
    FollowUp("How do I clone a repository?", "How do I get only the latest history?", "git-clone"),
    FollowUp(
        "How do I apply a commit from another branch with cherry-pick?",
        "What if it stops with conflicts?",
        "git-cherry-pick",
    ),
    FollowUp("What does VACUUM do?", "Does it lock the table?", "sql-vacuum"),
    FollowUp(
        "How do I create a materialized view?",
        "How do I refresh it?",
        "sql-refreshmaterializedview",
    ),
    FollowUp(
        "How do I back up a database with pg_dump?", "And how do I restore it?", "app-pgrestore"
    ),
    FollowUp(
        "What is the default transaction isolation level?",
        "What other levels are there?",
        "transaction-iso",
    ),
    FollowUp("How do I add a column to a table?", "And how do I drop one?", "sql-altertable"),
    FollowUp(
        "How do I create an index?", "Can I build it without blocking writes?", "sql-createindex"
    ),
    FollowUp("How do I create a new role?", "How do I give it a password?", "sql-createrole"),
    FollowUp(
        "How do I grant read access on a table?", "How do I take it away again?", "sql-revoke"
    ),
    FollowUp("What is the jsonb type?", "How do I index it?", "datatype-json"),
    FollowUp("What does EXPLAIN do?", "How do I see the actual run times too?", "sql-explain"),
    FollowUp("What is the work_mem setting?", "What is its default?", "runtime-config-resource"),
]

# Pages of the same manuals that answer none of the questions: what a widget holding the
# whole manual also holds, and what a wrong answer would quote.
DISTRACTORS: dict[str, list[str]] = {
    GIT: [
        "git-merge",
        "git-checkout",
        "git-restore",
        "git-fetch",
        "git-status",
        "git-add",
        "git-rm",
        "git-show",
        "git-mv",
        "git-config",
        "git-describe",
        "git-submodule",
        "git-grep",
        "git-notes",
        "git-gc",
        "git-archive",
        "git-shortlog",
        "git-apply",
        "git-format-patch",
        "git-am",
        "gitglossary",
        "giteveryday",
    ],
    POSTGRESQL: [
        "sql-createtable",
        "sql-droptable",
        "sql-delete",
        "sql-update",
        "sql-select",
        "sql-createview",
        "sql-alterrole",
        "sql-droprole",
        "sql-reindex",
        "sql-cluster",
        "sql-copy",
        "app-psql",
        "app-pg-dumpall",
        "backup-dump",
        "routine-vacuuming",
        "indexes-types",
        "datatype-character",
        "functions-json",
        "runtime-config-query",
        "sql-lock",
        "mvcc-intro",
    ],
}

# Questions in each manual's domain that none of its ingested pages answers: what a visitor
# asks beyond the documents. The honest answer is the widget's no-answer message; quoting a
# sentence that shares their words is a wrong answer. Two sets, each written before it was
# first asked (2026-12-06): the first was asked, read, and chose the answerer's rule about
# things a question names that no source mentions; the second was written before that rule
# and kept out of sight until it was done (held out).
UNANSWERABLE: dict[str, list[str]] = {
    GIT: [
        "How do I open a pull request on GitHub?",
        "How do I store large binary files with Git LFS?",
        "How do I migrate a Subversion repository to git?",
        "How do I write a pre-commit hook?",
        "How much does a private repository cost?",
        "How do I install git on Windows?",
        "How do I delete my GitHub account?",
        "How do I rename my repository on GitLab?",
        "What is the latest version of git?",
        "How do I set up continuous integration for my repository?",
    ],
    POSTGRESQL: [
        "How do I set up streaming replication to a standby server?",
        "How do I install the PostGIS extension?",
        "How do I upgrade from PostgreSQL 14 to 15 with pg_upgrade?",
        "How do I write a trigger function in PL/pgSQL?",
        "How do I connect to PostgreSQL from a Java application with JDBC?",
        "What is the maximum size of a database on Amazon RDS?",
        "How do I install PostgreSQL on macOS?",
        "How do I schedule a job to run every night with pg_cron?",
        "How do I create a full-text search index with tsvector?",
        "How do I set up logical replication with a publication?",
    ],
}

UNANSWERABLE_HELD_OUT: dict[str, list[str]] = {
    GIT: [
        "How do I configure SourceTree to use my SSH key?",
        "What is the difference between Mercurial and git?",
        "How do I recover a deleted GitHub repository?",
        "How do I enable two-factor authentication for git?",
        "How do I use git in Eclipse?",
        "How do I fork a repository?",
        "Who created git and when?",
        "How do I set up a self-hosted Gitea server?",
        "How many files can a git repository hold before it slows down?",
        "How do I sign my commits with an SSH key on GitHub?",
    ],
    POSTGRESQL: [
        "How do I configure pgBouncer for connection pooling?",
        "How do I use PostgreSQL with Django?",
        "How do I enable the TimescaleDB extension?",
        "How do I encrypt a column with pgcrypto?",
        "How do I move my database to Google Cloud SQL?",
        "How do I set up high availability with Patroni?",
        "What license is PostgreSQL released under?",
        "How do I write a stored procedure in Python?",
        "How do I monitor slow queries with pg_stat_statements?",
        "How do I convert an Oracle database to PostgreSQL?",
    ],
}
